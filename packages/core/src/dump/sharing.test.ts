import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { closeQuietly, dupCloexec, kcmpFiles, pipe2 } from '../linux/syscalls.js';
import { collectFiles, probeProcess, scanProcess } from './collect.js';
import { groupSharedFiles } from './sharing.js';

const opened: number[] = [];
function track<T extends number[]>(...fds: T): T {
  opened.push(...fds);
  return fds;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) closeQuietly(fd);
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function openCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** A child that holds `fds` as its fds 3, 4, ... until killed. */
async function childHolding(fds: number[]): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', ...fds] });
  children.push(child);
  await new Promise((done) => child.once('spawn', done));
  return child.pid as number;
}

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

describe('groupSharedFiles across processes', () => {
  it('groups descriptors a child inherited with their originals, without duplicating any', async () => {
    const [r, w] = track(...pipe2());
    const file = openSync('/proc/self/exe', 'r');
    const other = openSync('/proc/self/exe', 'r');
    track(file, other);
    const pid = await childHolding([r, w, other]);
    const scans = [...scanProcess(process.pid, [r, w, file]), ...scanProcess(pid, [3, 4, 5])];
    const groups = groupSharedFiles(scans).map((g) => g.map((s) => `${s.pid === pid ? 'child' : 'self'}:${s.fd}`).sort());

    expect(groups.sort()).toEqual(
      [[`child:3`, `self:${r}`], [`child:4`, `self:${w}`], [`self:${file}`], ['child:5']].sort(),
    );
  });
});

describe('collectFiles', () => {
  it('duplicates one descriptor per open file description, on first use, shared by the group', async () => {
    const [r, w] = track(...pipe2());
    const dups = track(dupCloexec(r), dupCloexec(r), dupCloexec(w));
    const pid = await childHolding([r, w]);
    const before = openCount();
    const { groups, close } = collectFiles([process.pid, pid], {
      [process.pid]: [r, w, ...dups],
      [pid]: [3, 4],
    });
    try {
      expect(groups.map((g) => g.map((p) => `${p.pid === pid ? 'child' : 'self'}:${p.fd}`))).toEqual([
        [`self:${r}`, `self:${dups[0]}`, `self:${dups[1]}`, 'child:3'],
        [`self:${w}`, `self:${dups[2]}`, 'child:4'],
      ]);
      expect(openCount()).toBe(before);

      const reads = groups.map((g) => g.map((p) => p.localFd));

      // Two duplicates and the pidfd they were taken through.
      expect(openCount()).toBe(before + 3);
      for (const fds of reads) expect(new Set(fds).size).toBe(1);
      expect(kcmpFiles(reads[0]![0]!, r)).toBe(0);
      expect(kcmpFiles(reads[1]![0]!, w)).toBe(0);
    } finally {
      close();
    }
    expect(openCount()).toBe(before);
  });

  it('says which descriptor a process does not have', () => {
    expect(() => collectFiles([process.pid], { [process.pid]: [19_999] })).toThrow(
      expect.objectContaining({ code: 'FDCR_E_ARG_INVALID', message: `process ${process.pid} has no fd 19999` }),
    );
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
