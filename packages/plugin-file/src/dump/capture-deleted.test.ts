import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataExtents } from './capture-deleted.js';

describe('dataExtents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fdcr-extents-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists data and leaves holes out, including a trailing one', () => {
    const fd = openSync(join(dir, 'sparse'), 'w+');
    try {
      writeSync(fd, Buffer.from('abc'), 0, 3, 0);
      writeSync(fd, Buffer.from('xyz'), 0, 3, 1 << 20);
      ftruncateSync(fd, 3 << 20);
      const extents = dataExtents(fd, 3 << 20);
      expect(extents.length).toBe(2);
      expect(extents[0]?.offset).toBe(0);
      expect(extents[1]?.offset).toBeLessThanOrEqual(1 << 20);
      expect(extents.at(-1)!.offset + extents.at(-1)!.length).toBeLessThan(3 << 20);
    } finally {
      closeSync(fd);
    }
  });

  it('finds nothing in an empty or all-hole file', () => {
    const fd = openSync(join(dir, 'hole'), 'w+');
    try {
      ftruncateSync(fd, 1 << 20);
      expect(dataExtents(fd, 1 << 20)).toEqual([]);
      expect(dataExtents(fd, 0)).toEqual([]);
    } finally {
      closeSync(fd);
    }
  });
});
