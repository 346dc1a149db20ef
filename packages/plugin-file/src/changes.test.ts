import { describe, expect, it } from 'vitest';
import { findChanges, type ChangeRules } from './changes.js';
import type { FileIdentity } from './file-state.js';

const was: FileIdentity = { mode: 0o100644, size: 100, ino: '12', dev: '2049', mtimeNs: '1700000000000000000' };
const all: ChangeRules = { identity: true, content: true, appendOnly: false };

describe('findChanges', () => {
  it('finds nothing when the file is as recorded', () => {
    expect(findChanges(was, { ...was }, all)).toEqual([]);
  });

  it('reports a replaced file by inode when identity is compared', () => {
    expect(findChanges(was, { ...was, ino: '13' }, all)).toEqual([
      'replaced (inode 12 on device 2049, now inode 13 on device 2049)',
    ]);
  });

  it('ignores inode and device when identity is not compared (remapped root, other boot)', () => {
    expect(findChanges(was, { ...was, ino: '99', dev: '7' }, { ...all, identity: false })).toEqual([]);
  });

  it('reports a changed mode in octal', () => {
    expect(findChanges(was, { ...was, mode: 0o100600 }, all)).toEqual(['mode changed from 0100644 to 0100600']);
  });

  it('reports a shrunk file even for an append-only holder', () => {
    const now = { ...was, size: 10, mtimeNs: '1700000001000000000' };
    expect(findChanges(was, now, { ...all, appendOnly: true })).toEqual(['shrank from 100 to 10 bytes']);
  });

  it('accepts a grown log held append-only', () => {
    const now = { ...was, size: 400, mtimeNs: '1700000001000000000' };
    expect(findChanges(was, now, { ...all, appendOnly: true })).toEqual([]);
  });

  it('reports growth and a new mtime for other holders', () => {
    const now = { ...was, size: 400, mtimeNs: '1700000001000000000' };
    expect(findChanges(was, now, all)).toEqual([
      'grew from 100 to 400 bytes',
      'modified (mtime 2023-11-14T22:13:20.000Z, now 2023-11-14T22:13:21.000Z)',
    ]);
  });

  it('skips size and mtime when content is not compared (directories, O_PATH)', () => {
    const now = { ...was, size: 1, mtimeNs: '1' };
    expect(findChanges(was, now, { ...all, content: false })).toEqual([]);
  });
});
