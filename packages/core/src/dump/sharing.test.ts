import { closeSync, openSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeQuietly, dupCloexec, pipe2 } from '../linux/syscalls.js';
import { probeProcess } from './collect.js';
import { groupSharedFiles } from './sharing.js';

const opened: number[] = [];
function track<T extends number[]>(...fds: T): T {
  opened.push(...fds);
  return fds;
}

afterEach(() => {
  for (const fd of opened.splice(0)) closeQuietly(fd);
});

function groupsOf(fds: number[]): number[][] {
  const probes = probeProcess(process.pid, fds);
  try {
    return groupSharedFiles(probes)
      .map((g) => g.map((p) => p.fd).sort((a, b) => a - b))
      .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  } finally {
    for (const p of probes) closeQuietly(p.localFd);
  }
}

describe('groupSharedFiles', () => {
  it('puts dup()ed descriptors of one open file description in one group', () => {
    const [r, w] = track(...pipe2());
    const [r2, w2] = track(dupCloexec(r), dupCloexec(w));
    expect(groupsOf([r, w, r2, w2])).toEqual([[r, r2], [w, w2]].sort((a, b) => a[0]! - b[0]!));
  });

  it('keeps two independent opens of the same file apart', () => {
    const a = openSync('/proc/self/exe', 'r');
    const b = openSync('/proc/self/exe', 'r');
    track(a, b);
    expect(groupsOf([a, b])).toEqual([[a], [b]]);
  });

  it('groups thousands of dups of a few files without comparing all pairs', () => {
    const files = [0, 1, 2].map(() => openSync('/proc/self/exe', 'r'));
    track(...files);
    const dups = Array.from({ length: 600 }, (_, i) => dupCloexec(files[i % 3]!));
    track(...dups);
    const groups = groupsOf([...files, ...dups]);
    expect(groups).toHaveLength(3);
    expect(groups.map((g) => g.length)).toEqual([201, 201, 201]);
  });
});

describe('probeProcess', () => {
  it('reports the status flags and FD_CLOEXEC of each descriptor', () => {
    const fd = openSync('/dev/null', 'a');
    track(fd);
    const [probe] = probeProcess(process.pid, [fd]);
    closeQuietly(probe!.localFd);
    expect(probe!.info.flags & 0o3).toBe(1);
    expect(probe!.info.flags & 0o2000).toBe(0o2000);
    expect(probe!.info.cloexec).toBe(true);
    closeSync(fd);
    opened.length = 0;
  });
});
