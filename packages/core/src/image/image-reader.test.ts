import { closeSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FdcrError } from '../errors/fdcr-error.js';
import { isOpen, memfdCreate } from '../linux/syscalls.js';
import { encodeCbor } from './cbor.js';
import { MAGIC, MAX_PAYLOAD, RecordKind } from './format.js';
import { ImageReader } from './image-reader.js';
import { ImageWriter } from './image-writer.js';

// Values of the wrong type for each kind of field.
const UINT = ['1', -1, 1.5, 2 ** 53, null, true, Buffer.from('1'), [1]];
const INT = ['1', 1.5, 2 ** 53, null, false, Buffer.from('1')];
const TEXT = [1, null, Buffer.from('x'), true, ['x']];
const BYTES = ['x', 1, null, [], {}];
const BYTES_LIST = ['x', [1], ['x'], null, Buffer.from('x')];
const MAP = [null, [], 'x', 1, Buffer.from('x')];
const BOOL = [0, 1, 'true', null];

/** The codes a reader may fail with on a damaged or forged image. */
const IMAGE_CODES = [
  'FDCR_E_IMAGE_EMPTY',
  'FDCR_E_IMAGE_MAGIC',
  'FDCR_E_IMAGE_VERSION',
  'FDCR_E_IMAGE_TRUNCATED',
  'FDCR_E_IMAGE_CHECKSUM',
  'FDCR_E_IMAGE_CORRUPT',
  'FDCR_E_IMAGE_TOO_LARGE',
];

// Each record twice: in memory, and as it is on the wire under the short keys of
// wire-keys.ts, spelled out here so that a changed key fails these tests.
const header = {
  format: 1,
  minor: 0,
  fdcr: '0.1.0',
  plugins: { pipe: { version: '0.1.0', state: 1 } },
  kernel: '6.1.0',
  arch: 'x64',
  host: 'test',
  time: '2024-01-02T03:04:05.000Z',
};
const headerWire = {
  f: 1,
  m: 0,
  w: '0.1.0',
  p: { pipe: { v: '0.1.0', s: 1 } },
  k: '6.1.0',
  a: 'x64',
  h: 'test',
  t: '2024-01-02T03:04:05.000Z',
};
const proc = { pid: 10, ppid: 1, comm: 'sh', argv: [Buffer.from('sh')], cwd: Buffer.from('/') };
const procWire = { p: 10, pp: 1, c: 'sh', a: [Buffer.from('sh')], w: Buffer.from('/') };
const object = { id: 1, plugin: 'pipe', kind: 'pipe', state: { capacity: 4096, bytes: 3, stream: 1 } };
const objectWire = { i: 1, p: 'pipe', k: 'pipe', s: { capacity: 4096, bytes: 3, stream: 1 } };
const entity = { id: 1, plugin: 'pipe', kind: 'pipe', flags: 0, object: 1, state: {} };
const entityWire = { i: 1, p: 'pipe', k: 'pipe', f: 0, o: 1, s: {} };
const descriptor = { pid: 10, fd: 3, cloexec: false, entity: 1 };
const descriptorWire = { p: 10, f: 3, c: false, e: 1 };
const K = RecordKind;

function prefix(major = 1, minor = 0): Buffer {
  const version = Buffer.alloc(4);
  version.writeUInt16LE(major, 0);
  version.writeUInt16LE(minor, 2);
  return Buffer.concat([MAGIC, version]);
}

/** A frame with a correct checksum around any payload. */
function frame(kind: number, payload: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(kind, 0);
  head.writeUInt32LE(payload.length, 1);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc32(payload, crc32(head)), 0);
  return Buffer.concat([head, payload, tail]);
}

function record(kind: number, value: unknown): Buffer {
  return frame(kind, encodeCbor(value));
}

/** A complete image of the given frames: prefix, frames, and a matching trailer. */
function image(frames: Buffer[], start = prefix()): Buffer {
  const body = Buffer.concat([start, ...frames]);
  return Buffer.concat([body, record(RecordKind.trailer, { n: frames.length, b: body.length })]);
}

/** A small image with one record of every kind, as fdcr writes it. */
function validImage(): Buffer {
  const fd = memfdCreate('fdcr-valid');
  const writer = ImageWriter.onFd(fd, 'valid');
  writer.writeHeader(header);
  writer.writeProcess(proc);
  writer.writeObject(object);
  writer.writeEntity(entity);
  writer.writeData(1, Buffer.from('abc'));
  writer.writeDescriptor(descriptor);
  writer.finish();
  const bytes = readFileSync(`/proc/self/fd/${fd}`);
  closeSync(fd);
  return bytes;
}

/** A process record whose pid 10 is written in the 8-byte integer form, which decodes as a bigint. */
function pidAsUint64(): Buffer {
  const hex = encodeCbor({ ...procWire, p: 0xffffffff }).toString('hex');
  return Buffer.from(hex.replace('1affffffff', '1b000000000000000a'), 'hex');
}

function memfdWith(bytes: Uint8Array): number {
  const fd = memfdCreate('fdcr-test-image');
  if (bytes.length > 0) writeSync(fd, bytes, 0, bytes.length, 0);
  return fd;
}

function read(bytes: Uint8Array): ImageReader {
  return ImageReader.fromFd(memfdWith(bytes), 'test image');
}

/** The error reading `bytes` fails with; fails the test if it reads, or throws another type. */
function failure(bytes: Uint8Array): FdcrError {
  let reader: ImageReader | undefined;
  try {
    reader = read(bytes);
  } catch (error) {
    if (!(error instanceof FdcrError)) throw error;
    return error;
  }
  reader.close();
  throw new Error('the image was accepted');
}

function codeOf(bytes: Uint8Array): string {
  return failure(bytes).code;
}

/** A deterministic generator, so a failure here can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

function randomBytes(next: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = next() & 0xff;
  return bytes;
}

describe('ImageReader', () => {
  it('reads a valid image', () => {
    const reader = read(validImage());
    try {
      expect(reader.contents.descriptors).toEqual([descriptor]);
      expect([...reader.data(1)].map((c) => c.data.toString())).toEqual(['abc']);
    } finally {
      reader.close();
    }
  });

  it('refuses an empty file with FDCR_E_IMAGE_EMPTY', () => {
    expect(codeOf(Buffer.alloc(0))).toBe('FDCR_E_IMAGE_EMPTY');
  });

  it('refuses a file without the magic with FDCR_E_IMAGE_MAGIC', () => {
    expect(codeOf(Buffer.from('#!/bin/sh\necho hello\n'))).toBe('FDCR_E_IMAGE_MAGIC');
    expect(codeOf(Buffer.from('x'))).toBe('FDCR_E_IMAGE_MAGIC');
    expect(codeOf(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]))).toBe(
      'FDCR_E_IMAGE_MAGIC',
    );
  });

  it('refuses a newer major version with FDCR_E_IMAGE_VERSION and a hint', () => {
    const error = failure(image([record(RecordKind.header, { ...headerWire, f: 2 })], prefix(2, 0)));

    expect(error.code).toBe('FDCR_E_IMAGE_VERSION');
    expect(error.message).toContain('format version 2.0');
    expect(error.hint).toMatch(/newer fdcr/);
  });

  it('refuses an older major version with FDCR_E_IMAGE_VERSION', () => {
    expect(codeOf(image([record(RecordKind.header, { ...headerWire, f: 0 })], prefix(0, 9)))).toBe(
      'FDCR_E_IMAGE_VERSION',
    );
  });

  it('reads an image of a newer minor version, with unknown fields and ancillary records', () => {
    const later = { later: { nested: [1, 2] } };
    const newer = { ...headerWire, m: 7, ...later };
    const reader = read(
      image([record(RecordKind.header, newer), frame(90, Buffer.from('not even CBOR'))], prefix(1, 7)),
    );
    reader.close();

    expect(reader.contents.header).toEqual({ ...header, minor: 7, ...later });
  });

  it('reports FDCR_E_IMAGE_TRUNCATED when cut at any byte offset', () => {
    const bytes = validImage();
    const codes = new Set<string>();
    for (let length = 1; length < bytes.length; length++) {
      codes.add(`${codeOf(bytes.subarray(0, length))}`);
    }

    expect([...codes]).toEqual(['FDCR_E_IMAGE_TRUNCATED']);
  });

  it('detects a single flipped bit anywhere in the image', () => {
    const bytes = validImage();
    for (let offset = 0; offset < bytes.length; offset++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = Buffer.from(bytes);
        damaged[offset] = (damaged[offset] as number) ^ (1 << bit);
        const code = codeOf(damaged);

        if (offset < 8) expect(code).toBe('FDCR_E_IMAGE_MAGIC');
        else if (offset < 10) expect(code).toBe('FDCR_E_IMAGE_VERSION');
        else if (offset < 12) expect(code).toBe('FDCR_E_IMAGE_CORRUPT');
        else expect(['FDCR_E_IMAGE_CHECKSUM', 'FDCR_E_IMAGE_TRUNCATED', 'FDCR_E_IMAGE_TOO_LARGE']).toContain(code);
      }
    }
  });

  it('refuses random bytes with a stable code', () => {
    const next = random(0x5eed);
    for (let i = 0; i < 400; i++) {
      const noise = randomBytes(next, next() % 600);
      const bytes = i % 2 === 0 ? noise : Buffer.concat([prefix(), noise]);

      expect(IMAGE_CODES).toContain(codeOf(bytes));
    }
  });

  it('refuses random payloads in correctly checksummed frames with a stable code', () => {
    const next = random(0xfdc7);
    const kinds = [RecordKind.header, RecordKind.process, RecordKind.object, RecordKind.entity,
      RecordKind.descriptor, RecordKind.data, RecordKind.trailer];
    for (let i = 0; i < 400; i++) {
      const payload = randomBytes(next, next() % 64);
      const first = record(RecordKind.header, headerWire);
      const bytes = image([first, frame(kinds[next() % kinds.length] as number, payload)]);

      expect(IMAGE_CODES).toContain(codeOf(bytes));
    }
  });

  it.each([
    ['process', K.process, procWire, { p: UINT, pp: INT, c: TEXT, a: BYTES_LIST, w: BYTES }],
    ['object', K.object, objectWire, { i: UINT, p: TEXT, k: TEXT, s: MAP }],
    ['entity', K.entity, entityWire, { i: UINT, p: TEXT, k: TEXT, f: INT, o: UINT, s: MAP }],
    ['descriptor', K.descriptor, descriptorWire, { p: UINT, f: UINT, c: BOOL, e: UINT }],
    ['data', K.data, { s: 1, d: Buffer.from('x') }, { s: INT, d: BYTES }],
  ] as const)('refuses a %s record with a field of the wrong type', (_name, kind, good, fields) => {
    for (const [field, wrong] of Object.entries(fields)) {
      for (const value of wrong) {
        const bad = image([record(K.header, headerWire), record(kind, { ...good, [field]: value })]);

        expect({ field, value, code: codeOf(bad) }).toEqual({ field, value, code: 'FDCR_E_IMAGE_CORRUPT' });
      }
    }
  });

  it('refuses a frame declaring 4 GiB with FDCR_E_IMAGE_TOO_LARGE, before allocating it', () => {
    const head = Buffer.from([RecordKind.header, 0xff, 0xff, 0xff, 0xff]);
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      expect(codeOf(Buffer.concat([prefix(), head, Buffer.alloc(16)]))).toBe('FDCR_E_IMAGE_TOO_LARGE');
      expect(allocUnsafe.mock.calls.filter(([size]) => size > 64 * 1024)).toEqual([]);
    } finally {
      allocUnsafe.mockRestore();
    }
  });

  it('refuses a frame longer than the file before allocating it', () => {
    const head = Buffer.alloc(5);
    head.writeUInt8(RecordKind.data, 0);
    head.writeUInt32LE(MAX_PAYLOAD, 1);
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      expect(codeOf(Buffer.concat([prefix(), head, Buffer.alloc(16)]))).toBe('FDCR_E_IMAGE_TRUNCATED');
      expect(allocUnsafe.mock.calls.filter(([size]) => size > 64 * 1024)).toEqual([]);
    } finally {
      allocUnsafe.mockRestore();
    }
  });

  it.each([
    ['array of 2^64-1 items', '9bffffffffffffffff'],
    ['array of 2^32-1 items', '9affffffff'],
    ['map of 2^63-1 pairs', 'bb7fffffffffffffff'],
    ['map of 2^32-1 pairs', 'baffffffff'],
    ['byte string of 2^64-1 bytes', '5bffffffffffffffff'],
    ['text string of 2^32-1 bytes', '7affffffff'],
    ['nested byte string of 2^32-1 bytes', 'a161645affffffff'],
  ])('refuses a %s inside a checksummed frame before decoding it', (_what, hex) => {
    const error = failure(image([frame(RecordKind.header, Buffer.from(hex, 'hex'))]));

    expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(error.message).toMatch(/exceeds the record/);
  });

  it('refuses CBOR tags with FDCR_E_IMAGE_CORRUPT', () => {
    // Tag 1 (epoch time) on the whole record, and tag 28 (shared value) inside it.
    for (const hex of ['c1a0', 'a16461726368d81c6178']) {
      const error = failure(image([frame(RecordKind.header, Buffer.from(hex, 'hex'))]));

      expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
      expect(error.message).toMatch(/tags/);
    }
  });

  it('refuses __proto__ keys anywhere in a record, without polluting prototypes', () => {
    const proto = Buffer.concat([Buffer.from([0x69]), Buffer.from('__proto__')]);
    const polluting = Buffer.concat([Buffer.from([0xa1]), proto, Buffer.from('a166706f6c6c7574f5', 'hex')]);
    const nested = Buffer.concat([Buffer.from('a1657374617465', 'hex'), polluting]);
    for (const payload of [polluting, nested]) {
      const error = failure(image([frame(RecordKind.header, payload)]));

      expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
      expect(error.message).toMatch(/__proto__/);
    }
    expect(({} as Record<string, unknown>).pollut).toBeUndefined();
  });

  it('refuses deep nesting without exhausting the stack', () => {
    const deep = Buffer.concat([Buffer.alloc(200_000, 0x81), Buffer.from([0x00])]);
    const error = failure(image([frame(RecordKind.header, deep)]));

    expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(error.message).toMatch(/nesting too deep/);
  });

  it('refuses indefinite lengths and trailing bytes with FDCR_E_IMAGE_CORRUPT', () => {
    for (const hex of ['9f01ff', 'bf616101ff', '5f4101ff', 'a0a0']) {
      expect(codeOf(image([frame(RecordKind.header, Buffer.from(hex, 'hex'))]))).toBe('FDCR_E_IMAGE_CORRUPT');
    }
  });

  it('keeps unknown fields of every record kind', () => {
    const later = { later: 'ignored by this reader' };
    const bytes = image([
      record(RecordKind.header, { ...headerWire, ...later }),
      record(RecordKind.process, { ...procWire, ...later }),
      record(RecordKind.object, { ...objectWire, ...later }),
      record(RecordKind.entity, { ...entityWire, ...later }),
      record(RecordKind.descriptor, { ...descriptorWire, ...later }),
      record(RecordKind.data, { s: 1, d: Buffer.from('abc'), ...later }),
    ]);
    const reader = read(bytes);
    reader.close();
    const { contents } = reader;

    for (const kept of [contents.header, contents.processes[0], contents.objects[0], contents.entities[0],
      contents.descriptors[0]]) {
      expect(kept).toMatchObject(later);
    }
  });

  it('does not let an unknown key spelled like a model field stand in for that field', () => {
    // Kept, `object: 99` would name a missing object and `cloexec: 'yes'` would be unchecked.
    const { o: _object, ...lone } = entityWire;
    const bytes = image([
      record(K.header, headerWire),
      record(K.process, procWire),
      record(K.entity, { ...lone, object: 99 }),
      record(K.descriptor, { ...descriptorWire, cloexec: 'yes', pid: 77 }),
    ]);
    const reader = read(bytes);
    reader.close();
    const { object: _unused, ...withoutObject } = entity;

    expect(reader.contents.entities).toEqual([withoutObject]);
    expect(reader.contents.descriptors).toEqual([descriptor]);
  });

  it.each([
    ['header', [record(K.header, header)]],
    ['process', [record(K.header, headerWire), record(K.process, proc)]],
    ['object', [record(K.header, headerWire), record(K.object, object)]],
    ['entity', [record(K.header, headerWire), record(K.object, objectWire), record(K.entity, entity)]],
    ['descriptor', [record(K.header, headerWire), record(K.descriptor, descriptor)]],
  ])('refuses a %s record under the long field names with FDCR_E_IMAGE_CORRUPT', (_what, frames) => {
    const error = failure(image(frames));

    expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(error.message).toMatch(/field \w+ \(\w+\) is missing or has the wrong type/);
  });

  it('skips unknown ancillary kinds 64..126 but still checks their checksums', () => {
    const ancillary = [64, 100, 126].map((kind) => frame(kind, Buffer.from([0xff, 0x00, kind])));
    const bytes = image([record(K.header, headerWire), ...ancillary]);
    const reader = read(bytes);
    reader.close();

    expect(reader.contents.header).toEqual(header);
    const damaged = Buffer.from(bytes);
    damaged[bytes.indexOf(ancillary[1] as Buffer) + 6] ^= 0x01;
    expect(codeOf(damaged)).toBe('FDCR_E_IMAGE_CHECKSUM');
  });

  it.each([0, 7, 63, 128, 200, 255])('refuses unknown critical kind %i with FDCR_E_IMAGE_CORRUPT', (kind) => {
    const error = failure(image([record(RecordKind.header, headerWire), record(kind, {})]));

    expect(error.code).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(error.message).toContain(`unknown record kind ${kind}`);
  });

  it.each([
    ['duplicate pids', [record(K.process, procWire), record(K.process, procWire)]],
    ['duplicate object ids', [record(K.object, objectWire), record(K.object, objectWire)]],
    ['duplicate entity ids', [record(K.object, objectWire), record(K.entity, entityWire), record(K.entity, entityWire)]],
    ['one fd held twice', [record(K.process, procWire), record(K.object, objectWire), record(K.entity, entityWire), record(K.descriptor, descriptorWire), record(K.descriptor, descriptorWire)]],
    ['an entity naming a missing object', [record(K.entity, entityWire)]],
    ['a descriptor naming a missing process', [record(K.object, objectWire), record(K.entity, entityWire), record(K.descriptor, descriptorWire)]],
    ['a descriptor naming a missing entity', [record(K.process, procWire), record(K.descriptor, descriptorWire)]],
    // Restore sizes the new process's descriptor table by the highest number.
    ['a descriptor number of 3,000,000,000', [record(K.process, procWire), record(K.object, objectWire), record(K.entity, entityWire), record(K.descriptor, { ...descriptorWire, f: 3_000_000_000 })]],
    ['a descriptor number of 2^20', [record(K.process, procWire), record(K.object, objectWire), record(K.entity, entityWire), record(K.descriptor, { ...descriptorWire, f: 1 << 20 })]],
  ])('refuses %s with FDCR_E_IMAGE_CORRUPT', (_what, frames) => {
    expect(codeOf(image([record(RecordKind.header, headerWire), ...frames]))).toBe('FDCR_E_IMAGE_CORRUPT');
  });

  it.each([
    ['no header', [record(K.process, procWire)]],
    ['two headers', [record(K.header, headerWire), record(K.header, headerWire)]],
    ['a record before the header', [record(K.process, procWire), record(K.header, headerWire)]],
    ['a header minor that differs from the prefix', [record(K.header, { ...headerWire, m: 1 })]],
    ['a header without a minor', [record(K.header, { ...headerWire, m: undefined })]],
    ['a plugin stamp with a text state version', [record(K.header, { ...headerWire, p: { pipe: { v: '1', s: '9' } } })]],
    ['a plugin stamp with state version 0', [record(K.header, { ...headerWire, p: { pipe: { v: '1', s: 0 } } })]],
    ['a plugin stamp without a state version', [record(K.header, { ...headerWire, p: { pipe: { v: '1', state: 1 } } })]],
    ['a plugin stamp that is not a map', [record(K.header, { ...headerWire, p: { pipe: 2 } })]],
    ['a pid written as a 64-bit integer', [record(K.header, headerWire), frame(K.process, pidAsUint64())]],
  ])('refuses an image with %s with FDCR_E_IMAGE_CORRUPT', (_what, frames) => {
    expect(codeOf(image(frames))).toBe('FDCR_E_IMAGE_CORRUPT');
  });

  it('refuses a trailer that miscounts, misplaces itself or is followed by bytes', () => {
    const body = Buffer.concat([prefix(), record(RecordKind.header, headerWire)]);
    const trailer = (frames: number, bytes: number): Buffer =>
      record(RecordKind.trailer, { n: frames, b: bytes });

    expect(codeOf(Buffer.concat([body, trailer(2, body.length)]))).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(codeOf(Buffer.concat([body, trailer(1, body.length + 1)]))).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(codeOf(Buffer.concat([body, trailer(1, body.length), Buffer.from([0])]))).toBe('FDCR_E_IMAGE_CORRUPT');
    const longKeys = record(RecordKind.trailer, { frames: 1, bytes: body.length });
    expect(codeOf(Buffer.concat([body, longKeys]))).toBe('FDCR_E_IMAGE_CORRUPT');
    expect(codeOf(body)).toBe('FDCR_E_IMAGE_TRUNCATED');
  });

  it('checks a data chunk again when it is read after the image was opened', () => {
    const bytes = validImage();
    const fd = memfdWith(bytes);
    const reader = ImageReader.fromFd(fd, 'test image');
    try {
      const at = bytes.indexOf(Buffer.from('abc'));
      writeSync(fd, Buffer.from('abd'), 0, 3, at);

      expect(() => [...reader.data(1)]).toThrow(expect.objectContaining({ code: 'FDCR_E_IMAGE_CHECKSUM' }));
    } finally {
      reader.close();
    }
  });

  it('closes the descriptor it was given when validation fails', () => {
    const fd = memfdWith(Buffer.from('not an image'));

    expect(() => ImageReader.fromFd(fd, 'test image')).toThrow(FdcrError);
    expect(isOpen(fd)).toBe(false);
  });
});

describe('ImageReader.open', () => {
  let dir: string | undefined;

  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads an image file by path', () => {
    dir = mkdtempSync(join(tmpdir(), 'fdcr-reader-'));
    writeFileSync(join(dir, 'image.fdcr'), validImage());
    const reader = ImageReader.open(join(dir, 'image.fdcr'));
    reader.close();

    expect(reader.contents.processes).toEqual([proc]);
  });

  it('fails with FDCR_E_IMAGE_IO and the path when the file cannot be opened', () => {
    dir = mkdtempSync(join(tmpdir(), 'fdcr-reader-'));
    const path = join(dir, 'missing.fdcr');

    expect(() => ImageReader.open(path)).toThrow(expect.objectContaining({ code: 'FDCR_E_IMAGE_IO', path }));
  });
});
