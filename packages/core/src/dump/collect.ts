import { existsSync } from 'node:fs';
import { FdcrError, isFdcrError } from '../errors/fdcr-error.js';
import { listFds, procError, ptraceHint } from '../linux/proc.js';
import { ProcFdReader } from '../linux/proc-fd.js';
import {
  closeQuietly,
  getNofileLimit,
  kcmpFilesOf,
  pidfdGetfd,
  pidfdOpen,
  raiseNofileLimit,
  reserveFdTable,
} from '../linux/syscalls.js';
import type { DescriptorRef, FdProbe, OpenFile } from '../plugin/fd-plugin.js';
import { groupSharedFiles } from './sharing.js';

/** What fdcr learns about a target descriptor from /proc, without duplicating it. */
export type FdScan = Omit<FdProbe, 'localFd'>;

/** The open files of the targets, grouped by open file description. */
export interface CollectedFiles {
  /** Descriptors sharing an open file description; all share that description's localFd. */
  groups: FdProbe[][];
  /** Closes every duplicate taken (through `localFd`) and the pidfds: call once, at the end. */
  close(): void;
}

function errnoOf(error: unknown): string | undefined {
  return isFdcrError(error) ? error.errno : (error as NodeJS.ErrnoException).code;
}

/** Turns a failed pidfd or /proc call into an error a user can act on. */
function accessError(error: unknown, pid: number, fd?: number): FdcrError {
  const errno = errnoOf(error);
  if (errno === 'EPERM' || errno === 'EACCES') {
    return new FdcrError('FDCR_E_PROC_PERMISSION', `cannot read descriptors of process ${pid}: ${errno}`, {
      pid,
      fd,
      errno,
      cause: error,
      hint: ptraceHint(),
    });
  }
  if (errno === 'ESRCH' || (errno === 'ENOENT' && !existsSync(`/proc/${pid}`))) {
    return new FdcrError('FDCR_E_PROC_NOT_FOUND', `no such process: ${pid}`, {
      pid,
      cause: error,
      hint: 'check the pid with `ps -p PID`; the process may have exited',
    });
  }
  if ((errno === 'ENOENT' || errno === 'EBADF') && fd !== undefined) {
    return new FdcrError('FDCR_E_ARG_INVALID', `process ${pid} has no fd ${fd}`, { pid, fd });
  }
  return isFdcrError(error) ? error : procError(error, pid, `fd ${fd}`);
}

/**
 * Reads stat, fdinfo and link of every descriptor of `pid` (or just `only`) from /proc
 * without duplicating any: holding a duplicate of every target descriptor would bound a
 * dump by fdcr's own RLIMIT_NOFILE.
 */
export function scanProcess(pid: number, only?: readonly number[]): FdScan[] {
  let reader: ProcFdReader;
  try {
    reader = ProcFdReader.open(pid);
  } catch (error) {
    throw accessError(error, pid);
  }
  try {
    const fds = only ?? listFds(pid);
    const scans: FdScan[] = new Array(fds.length);
    for (let i = 0; i < fds.length; i++) scans[i] = scanFd(reader, pid, fds[i] as number);
    return scans;
  } finally {
    reader.close();
  }
}

function scanFd(reader: ProcFdReader, pid: number, fd: number): FdScan {
  try {
    return { pid, fd, stat: reader.stat(fd), info: reader.info(fd), link: reader.link(fd) };
  } catch (error) {
    throw accessError(error, pid, fd);
  }
}

/**
 * Duplicates every descriptor of `pid` (or just `only`) into fdcr, for callers that need a
 * live handle on each (inspect). The caller closes `localFd` of every probe returned.
 */
export function probeProcess(pid: number, only?: readonly number[]): FdProbe[] {
  const scans = scanProcess(pid, only);
  const duplicates = new Duplicates();
  const probes: FdProbe[] = [];
  try {
    for (const scan of scans) probes.push({ ...scan, localFd: duplicates.take(scan) });
    return probes;
  } catch (error) {
    for (const probe of probes) closeQuietly(probe.localFd);
    throw error;
  } finally {
    duplicates.closePidfds();
  }
}

/**
 * Scans the descriptors of all `pids` and groups them by open file description (kcmp
 * between the target processes, see groupSharedFiles). Nothing is duplicated up front: the
 * first read of `localFd` on any member of a group duplicates that group's first descriptor
 * with pidfd_getfd, and every member returns that one duplicate. fdcr thus holds at most
 * one fd per open file description, and none for files no plugin reads through (a regular
 * file's plugin needs only what /proc said; pidfd_getfd costs about 15 µs here). The
 * targets must stay frozen until `close`, so that fd N still refers to the scanned file when
 * it is duplicated; each duplicate is checked with kcmp all the same.
 */
export function collectFiles(
  pids: readonly number[],
  only?: Readonly<Record<number, readonly number[]>>,
): CollectedFiles {
  const scans: FdScan[] = [];
  for (const pid of pids) {
    const found = scanProcess(pid, only?.[pid]);
    for (const scan of found) scans.push(scan);
  }
  const ordered = inScanOrder(groupSharedFiles(scans), scans);
  // At most one duplicate per open file description is held until the dump ends.
  const wanted = ordered.length + 4096;
  if (getNofileLimit()[0] < wanted) raiseNofileLimit(wanted);
  reserveFdTable(ordered.length + 64);
  const duplicates = new Duplicates();
  const groups = ordered.map((group) => {
    const shared = new SharedDuplicate(group[0] as FdScan, duplicates);
    return group.map((scan): FdProbe => new CollectedProbe(scan, shared));
  });
  return { groups, close: () => duplicates.close() };
}

/** The OpenFile of a group from collectFiles: its first descriptor, sharing the duplicate. */
export function openFileOf(group: readonly FdProbe[], entityId: number): OpenFile {
  const first = group[0] as CollectedProbe;
  const holders = group.map((p) => ({ pid: p.pid, fd: p.fd, cloexec: p.info.cloexec }));
  return new CollectedOpenFile(first, first.shared, entityId, holders);
}

/** One open file description's duplicate in fdcr, taken on first use. */
class SharedDuplicate {
  private fd: number | undefined;

  constructor(
    private readonly scan: FdScan,
    private readonly duplicates: Duplicates,
  ) {}

  get(): number {
    this.fd ??= this.duplicates.take(this.scan);
    return this.fd;
  }
}

/** A scanned descriptor whose `localFd` is its open file description's shared duplicate. */
class CollectedProbe implements FdProbe {
  readonly pid: number;
  readonly fd: number;
  readonly stat: FdScan['stat'];
  readonly info: FdScan['info'];
  readonly link: Buffer;

  constructor(
    scan: FdScan,
    readonly shared: SharedDuplicate,
  ) {
    this.pid = scan.pid;
    this.fd = scan.fd;
    this.stat = scan.stat;
    this.info = scan.info;
    this.link = scan.link;
  }

  get localFd(): number {
    return this.shared.get();
  }
}

class CollectedOpenFile extends CollectedProbe implements OpenFile {
  constructor(
    scan: FdScan,
    shared: SharedDuplicate,
    readonly entityId: number,
    readonly holders: readonly DescriptorRef[],
  ) {
    super(scan, shared);
  }
}

/** Groups with their members in scan order, ordered by their first member. */
function inScanOrder(groups: FdScan[][], scans: readonly FdScan[]): FdScan[][] {
  const order = new Map<FdScan, number>();
  for (let i = 0; i < scans.length; i++) order.set(scans[i] as FdScan, i);
  const rank = (scan: FdScan): number => order.get(scan) as number;
  for (const group of groups) if (group.length > 1) group.sort((a, b) => rank(a) - rank(b));
  return groups.sort((a, b) => rank(a[0] as FdScan) - rank(b[0] as FdScan));
}

/** pidfd_getfd with one pidfd per process, each duplicate checked against the target's fd. */
class Duplicates {
  private readonly pidfds = new Map<number, number>();
  private readonly taken: number[] = [];

  /** A duplicate of the scanned descriptor, close-on-exec; the caller closes it. */
  take(scan: FdScan): number {
    const { pid, fd } = scan;
    let localFd: number;
    try {
      localFd = pidfdGetfd(this.pidfd(pid), fd);
    } catch (error) {
      throw accessError(error, pid, fd);
    }
    // A descriptor closed and reopened since the scan would hand us another file.
    if (kcmpFilesOf(process.pid, localFd, pid, fd) !== 0) {
      closeQuietly(localFd);
      throw new FdcrError('FDCR_E_DUMP_FD_CHANGED', `cannot duplicate pid ${pid} fd ${fd}: it was replaced while it was read`, { pid, fd });
    }
    this.taken.push(localFd);
    return localFd;
  }

  /** Closes every duplicate taken and the pidfds. */
  close(): void {
    for (const fd of this.taken.splice(0)) closeQuietly(fd);
    this.closePidfds();
  }

  closePidfds(): void {
    for (const pidfd of this.pidfds.values()) closeQuietly(pidfd);
    this.pidfds.clear();
  }

  private pidfd(pid: number): number {
    let pidfd = this.pidfds.get(pid);
    if (pidfd === undefined) {
      try {
        pidfd = pidfdOpen(pid);
      } catch (error) {
        throw accessError(error, pid);
      }
      this.pidfds.set(pid, pidfd);
    }
    return pidfd;
  }
}
