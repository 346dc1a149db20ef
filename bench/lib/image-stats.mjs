// Walks an image's frames (kind u8, length u32 LE, payload, CRC u32) without decoding
// payloads, and sums frame sizes per record kind. Layout: packages/core/src/image/format.ts.
import { closeSync, openSync, readSync } from 'node:fs';

const PREFIX = 12;
const HEAD = 5;
const TAIL = 4;
const KINDS = { 1: 'header', 2: 'process', 3: 'object', 4: 'entity', 5: 'descriptor', 6: 'data', 127: 'trailer' };

/** Frame count and bytes (framing included) per record kind, and averages per record. */
export function imageBreakdown(path) {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(HEAD);
  const kinds = {};
  try {
    for (let at = PREFIX; readSync(fd, head, 0, HEAD, at) === HEAD; ) {
      const size = HEAD + head.readUInt32LE(1) + TAIL;
      const name = KINDS[head[0]] ?? `kind${head[0]}`;
      kinds[name] ??= { count: 0, bytes: 0 };
      kinds[name].count++;
      kinds[name].bytes += size;
      at += size;
    }
  } finally {
    closeSync(fd);
  }
  const avg = (k) => (kinds[k] ? kinds[k].bytes / kinds[k].count : 0);
  return { kinds, perDescriptor: avg('descriptor'), perEntity: avg('entity'), perObject: avg('object') };
}
