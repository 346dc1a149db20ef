import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linux, silentLogger, type DataChunk, type EntityRecord, type RestoreContext } from '@fdcr/core';
import { afterEach, describe, expect, it } from 'vitest';
import { restorePipe } from './restore.js';

const { O_NONBLOCK, O_RDONLY, O_WRONLY } = linux;

const provided: number[] = [];

afterEach(() => {
  for (const fd of provided.splice(0)) linux.closeQuietly(fd);
});

/** A restore context holding one pipe object and the given data chunks. */
function context(
  state: Record<string, unknown>,
  chunks: Buffer[] = [],
): { ctx: RestoreContext; fds: Map<number, number> } {
  const fds = new Map<number, number>();
  const ctx: RestoreContext = {
    logger: silentLogger,
    options: {},
    objects: new Map([[1, { id: 1, plugin: 'pipe', kind: 'pipe', state }]]),
    entities: new Map(),
    data: () => chunks.map((data): DataChunk => ({ data, message: false })),
    provide: (entity, fd) => {
      provided.push(fd);
      fds.set(entity, fd);
    },
    fdOf: (entity) => fds.get(entity),
  };
  return { ctx, fds };
}

function end(id: number, flags: number): EntityRecord {
  return { id, plugin: 'pipe', kind: 'pipe', flags, object: 1, state: {} };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('restorePipe', () => {
  it('restores capacity, data and the flags of each end', () => {
    const data = Buffer.alloc(100000, 0x5a);
    const { ctx, fds } = context({ capacity: 1 << 17, bytes: data.length, stream: 1 }, [data]);

    restorePipe(1, [end(1, O_RDONLY | O_NONBLOCK), end(2, O_WRONLY)], ctx);

    const [r, w] = [fds.get(1)!, fds.get(2)!];
    expect(linux.getPipeSize(r)).toBe(1 << 17);
    expect(linux.bytesReadable(r)).toBe(data.length);
    expect(linux.getStatusFlags(r) & (O_NONBLOCK | 3)).toBe(O_RDONLY | O_NONBLOCK);
    expect(linux.getStatusFlags(w) & (O_NONBLOCK | 3)).toBe(O_WRONLY);
  });

  it('refuses data that does not fit the recorded capacity and leaves no descriptor open', () => {
    const data = Buffer.alloc(8192, 1);
    const { ctx } = context({ capacity: 4096, bytes: data.length, stream: 1 }, [data]);
    const before = openFds();

    expect(() => restorePipe(1, [end(1, O_RDONLY)], ctx)).toThrow(expect.objectContaining({ code: 'FDCR_E_PIPE_CAPACITY' }));
    expect(openFds()).toBe(before);
  });

  it('refuses a recorded FIFO path that is no longer a FIFO', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdcr-pipe-'));
    try {
      const path = join(dir, 'fifo');
      writeFileSync(path, 'a regular file now');
      const { ctx } = context({ capacity: 65536, bytes: 0, path: Buffer.from(path) });
      const before = openFds();

      expect(() => restorePipe(1, [end(1, O_RDONLY)], ctx)).toThrow(expect.objectContaining({ code: 'FDCR_E_PIPE_NOT_FIFO' }));
      expect(openFds()).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
