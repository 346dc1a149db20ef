import { fstatSync, readdirSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { linux, type OpenFile } from '@fdcr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { capturePipeData, ScratchPipe } from './capture.js';

const { O_CLOEXEC, O_DIRECT, O_NONBLOCK } = linux;

const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) linux.closeQuietly(fd);
});

/** A non-blocking pipe of this process, closed after the test. */
function pipe(flags = 0): [number, number] {
  const ends = linux.pipe2(O_CLOEXEC | O_NONBLOCK | flags);
  opened.push(...ends);
  return ends;
}

/** An OpenFile for one of this process's own descriptors, as the engine would build it. */
function openFile(fd: number): OpenFile {
  const stat = fstatSync(fd, { bigint: true });
  const info = {
    pos: 0n,
    flags: linux.getStatusFlags(fd),
    cloexec: true,
    mntId: 0,
    ino: stat.ino,
    extra: new Map(),
  };
  const link = readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' });
  return { pid: process.pid, fd, localFd: fd, stat, info, link, entityId: fd, holders: [] };
}

function capture(files: OpenFile[], packet = false): Buffer[] {
  const chunks: Buffer[] = [];
  const capacity = linux.getPipeSize(files[0]!.localFd);
  const total = capturePipeData(files, capacity, packet, (c) => chunks.push(Buffer.from(c)));
  expect(total).toBe(chunks.reduce((sum, c) => sum + c.length, 0));
  return chunks;
}

function readAll(fd: number): Buffer {
  const buffer = Buffer.alloc(1 << 20);
  return buffer.subarray(0, linux.readAvailable(fd, buffer));
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('capturePipeData', () => {
  it('copies the pending bytes and leaves them in the pipe', () => {
    const [r, w] = pipe();
    const data = Buffer.from(Array.from({ length: 40000 }, (_, i) => (i * 31) % 256));
    writeSync(w, data);

    expect(Buffer.concat(capture([openFile(r), openFile(w)]))).toEqual(data);
    expect(linux.bytesReadable(r)).toBe(data.length);
    expect(readAll(r)).toEqual(data);
  });

  it('yields one chunk per packet of a packet-mode pipe', () => {
    const [r, w] = pipe(O_DIRECT);
    const packets = [1, 300, 4096, 7].map((n, i) => Buffer.alloc(n, 0x41 + i));
    for (const p of packets) writeSync(w, p);

    expect(capture([openFile(r), openFile(w)], true)).toEqual(packets);
    // The pipe still returns the same packets, one per read.
    for (const p of packets) expect(readSync(r, Buffer.alloc(65536))).toBe(p.length);
  });

  it('reads through a private read end when only the write end is held, and closes it', () => {
    const [r, w] = pipe();
    writeSync(w, 'only the writer is dumped');
    const before = openFds();

    expect(Buffer.concat(capture([openFile(w)])).toString()).toBe('only the writer is dumped');
    expect(openFds()).toBe(before);
    expect(readAll(r).toString()).toBe('only the writer is dumped');
  });

  it('captures nothing from an empty pipe', () => {
    const [r, w] = pipe();
    expect(capture([openFile(r), openFile(w)])).toEqual([]);
  });

  it('keeps pipes apart and intact when one scratch pipe is shared across them', () => {
    const scratch = new ScratchPipe();
    try {
      const small = pipe();
      const large = pipe();
      linux.setPipeSize(large[1], 1 << 20);
      const a = Buffer.alloc(3000, 0x61);
      // Larger than the default capacity and than one read chunk, so the scratch pipe grows.
      const b = Buffer.from(Array.from({ length: 300000 }, (_, i) => i % 251));
      writeSync(small[1], a);
      writeSync(large[1], b);
      const got = [small, large, small].map(([r, w]) => {
        const chunks: Buffer[] = [];
        const ends = [openFile(r), openFile(w)];
        const sink = (c: Buffer): number => chunks.push(Buffer.from(c));
        capturePipeData(ends, linux.getPipeSize(w), false, sink, scratch);
        return Buffer.concat(chunks);
      });

      // Buffer.equals: element-wise toEqual on large buffers takes seconds.
      expect(got.map((g, i) => g.equals([a, b, a][i]!))).toEqual([true, true, true]);
      expect(readAll(small[0]).equals(a)).toBe(true);
      expect(readAll(large[0]).equals(b)).toBe(true);
    } finally {
      scratch.close();
    }
  });
});
