import { readdirSync, readlinkSync } from 'node:fs';
import { readFdInfo, readStat } from '../linux/proc.js';

/** A descriptor of some process on the system that refers to a given file. */
export interface Holder {
  pid: number;
  fd: number;
  /** Command name from /proc/PID/stat. */
  comm: string;
}

/** Holders of every file on the system, keyed by what their /proc fd links say. */
export interface PeerIndex {
  /** Holders of a link such as `pipe:[123]`, `socket:[456]` or a FIFO's path. */
  holdersOf(link: string): readonly Holder[];
  /** Holders of an anonymous pipe or socket by inode. */
  holdersOfInode(kind: 'pipe' | 'socket', inode: number | bigint): readonly Holder[];
  /** Access mode of a holder's descriptor (`r`, `w`, `rw`), read from fdinfo on demand. */
  accessOf(holder: Holder): 'r' | 'w' | 'rw' | '?';
  /** How many processes and descriptors were scanned. */
  readonly scanned: { processes: number; descriptors: number };
}

function numericEntries(path: string): number[] {
  try {
    return readdirSync(path).filter((n) => /^[0-9]+$/.test(n)).map(Number);
  } catch {
    // A process that exits or hides its fds (EACCES) during the scan simply has none.
    return [];
  }
}

function commOf(root: string, pid: number): string {
  try {
    return readStat(`${root}/${pid}/stat`).comm;
  } catch {
    return '?';
  }
}

function linkOf(root: string, pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`${root}/${pid}/fd/${fd}`, 'latin1');
  } catch {
    return undefined;
  }
}

/**
 * Scans /proc/*\/fd once and indexes every descriptor of every visible process by its link.
 * It reads links only (no pidfd, no fdinfo), so it disturbs nobody and costs one readlink
 * per descriptor; processes we may not look at are skipped, and so is fdcr itself, whose
 * measuring duplicates would otherwise pose as peers. The index is a snapshot: a descriptor
 * opened or closed after the scan is not in it.
 */
export function buildPeerIndex(procRoot = '/proc'): PeerIndex {
  const byLink = new Map<string, Holder[]>();
  let processes = 0;
  let descriptors = 0;
  for (const pid of numericEntries(procRoot)) {
    if (pid === process.pid) continue;

    const fds = numericEntries(`${procRoot}/${pid}/fd`);
    if (fds.length === 0) continue;

    processes++;
    const comm = commOf(procRoot, pid);
    for (const fd of fds) {
      const link = linkOf(procRoot, pid, fd);
      if (link === undefined) continue;

      descriptors++;
      const list = byLink.get(link);
      if (list === undefined) byLink.set(link, [{ pid, fd, comm }]);
      else list.push({ pid, fd, comm });
    }
  }
  return indexOf(byLink, { processes, descriptors });
}

// Limitation: a snapshot taken while the processes run; it may disagree with counts read later.
function indexOf(byLink: Map<string, Holder[]>, scanned: PeerIndex['scanned']): PeerIndex {
  return {
    scanned,
    holdersOf: (link) => byLink.get(link) ?? [],
    holdersOfInode: (kind, inode) => byLink.get(`${kind}:[${inode}]`) ?? [],
    accessOf: (holder) => {
      try {
        const mode = readFdInfo(holder.pid, holder.fd).flags & 3;
        return mode === 0 ? 'r' : mode === 1 ? 'w' : 'rw';
      } catch {
        return '?';
      }
    },
  };
}
