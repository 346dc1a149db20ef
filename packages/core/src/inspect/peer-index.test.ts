import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildPeerIndex } from './peer-index.js';

let root: string;

function fakeProcess(pid: number, comm: string, links: Record<number, string>): void {
  mkdirSync(join(root, String(pid), 'fd'), { recursive: true });
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (${comm}) S 1 ${pid} ${pid} 0`);
  for (const [fd, link] of Object.entries(links)) symlinkSync(link, join(root, String(pid), 'fd', fd));
}

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('buildPeerIndex', () => {
  it('indexes every descriptor of every process by its link', () => {
    root = mkdtempSync(join(tmpdir(), 'fdcr-proc-'));
    fakeProcess(100, 'producer', { 1: 'pipe:[77]', 3: 'socket:[90]' });
    fakeProcess(200, 'consumer', { 0: 'pipe:[77]', 4: 'socket:[91]' });
    mkdirSync(join(root, 'self'));
    const index = buildPeerIndex(root);

    expect(index.holdersOf('pipe:[77]')).toEqual([
      { pid: 100, fd: 1, comm: 'producer' },
      { pid: 200, fd: 0, comm: 'consumer' },
    ]);
    expect(index.holdersOfInode('socket', 91)).toEqual([{ pid: 200, fd: 4, comm: 'consumer' }]);
    expect(index.holdersOf('pipe:[78]')).toEqual([]);
    expect(index.scanned).toEqual({ processes: 2, descriptors: 4 });
  });

  it('leaves out fdcr itself, whose measuring duplicates are not peers', () => {
    root = mkdtempSync(join(tmpdir(), 'fdcr-proc-'));
    fakeProcess(process.pid, 'node', { 9: 'pipe:[5]' });
    expect(buildPeerIndex(root).holdersOf('pipe:[5]')).toEqual([]);
  });
});
