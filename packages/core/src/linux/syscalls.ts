import { closeSync, fstatSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import koffi, { type TypeObject } from 'koffi';
import { isFdcrError } from '../errors/fdcr-error.js';
import { bindLibc, bindLibcRaw, errnoName, lastErrno, syscallError } from './libc.js';
import {
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_GETPIPE_SZ,
  F_SETFD,
  F_SETFL,
  F_SETPIPE_SZ,
  FIONREAD,
  KCMP_FILE,
  O_CLOEXEC,
  RLIMIT_NOFILE,
} from './constants.js';

const pidfdOpenNative = bindLibc('int pidfd_open(int pid, unsigned int flags)');
const pidfdGetfdNative = bindLibc('int pidfd_getfd(int pidfd, int targetfd, unsigned int flags)');
const teeNative = bindLibc('intptr_t tee(int fd_in, int fd_out, size_t len, unsigned int flags)');
const spliceNative = bindLibc(
  'intptr_t splice(int fd_in, void *off_in, int fd_out, void *off_out, size_t len, unsigned int flags)',
);
const fcntlNative = bindLibc('int fcntl(int fd, int cmd, long arg)');
const pipe2Native = bindLibc('int pipe2(_Out_ int *fds, int flags)');
const dup3Native = bindLibc('int dup3(int oldfd, int newfd, int flags)');
const closeNative = bindLibc('int close(int fd)');
const ioctlIntNative = bindLibc('int ioctl(int fd, unsigned long request, _Out_ int *value)');
const ptraceNative = bindLibc('long ptrace(long request, int pid, uintptr_t addr, uintptr_t data)');
const waitpidNative = bindLibc('int waitpid(int pid, _Out_ int *status, int options)');

let rlimitType: TypeObject | undefined;
let prlimitNative: ((...args: unknown[]) => number) | undefined;

/** Opens a pidfd for `pid`. */
export function pidfdOpen(pid: number): number {
  return pidfdOpenNative(pid, 0);
}

/** Duplicates fd `targetFd` of the process behind `pidfd` into this process (close-on-exec). */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  return pidfdGetfdNative(pidfd, targetFd, 0);
}

/** The kcmp syscall number of this architecture (none has a libc wrapper). */
function kcmpNumber(): number {
  return process.arch === 'arm64' ? 272 : 312;
}

// kcmp through syscall() with a fixed prototype: glibc's syscall() only moves registers, and
// on x86_64 and arm64 integer arguments of a variadic call travel in the same registers, so
// this is the same call as the variadic one without koffi's per-call type parsing (about
// 0.5 µs, and a dump of many shared descriptors makes hundreds of thousands of these).
const kcmpNative = bindLibcRaw(
  'long syscall(long number, int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2)',
);

/**
 * Orders two descriptors, of one process or two, by the open file description behind them:
 * 0 when fd `fdA` of `pidA` and fd `fdB` of `pidB` refer to the same one, -1 or 1 otherwise
 * (a stable, arbitrary order). Needs ptrace read access to both processes.
 */
export function kcmpFilesOf(pidA: number, fdA: number, pidB: number, fdB: number): number {
  const result = Number(kcmpNative(kcmpNumber(), pidA, pidB, KCMP_FILE, fdA, fdB));
  if (result < 0) {
    throw syscallError('kcmp', lastErrno(), `pid ${pidA} fd ${fdA} and pid ${pidB} fd ${fdB}`);
  }
  return result === 0 ? 0 : result === 1 ? -1 : 1;
}

/** kcmpFilesOf for two descriptors of this process. */
export function kcmpFiles(fdA: number, fdB: number): number {
  return kcmpFilesOf(process.pid, fdA, process.pid, fdB);
}

/** Copies up to `length` bytes from pipe `fdIn` to pipe `fdOut` without consuming them. */
export function tee(fdIn: number, fdOut: number, length: number, flags: number): number {
  return teeNative(fdIn, fdOut, length, flags);
}

/** Moves up to `length` bytes between `fdIn` and `fdOut`, one of which must be a pipe. */
export function splice(fdIn: number, fdOut: number, length: number, flags: number): number {
  return spliceNative(fdIn, null, fdOut, null, length, flags);
}

/** fcntl with an integer argument. */
export function fcntl(fd: number, cmd: number, arg = 0): number {
  return fcntlNative(fd, cmd, arg);
}

/** The file status flags of an open file description (F_GETFL). */
export function getStatusFlags(fd: number): number {
  return fcntl(fd, F_GETFL);
}

/** Sets the file status flags of an open file description (F_SETFL). */
export function setStatusFlags(fd: number, flags: number): void {
  fcntl(fd, F_SETFL, flags);
}

/** Whether FD_CLOEXEC is set on a descriptor. */
export function getCloexec(fd: number): boolean {
  return (fcntl(fd, F_GETFD) & 1) !== 0;
}

/** Sets or clears FD_CLOEXEC on a descriptor. */
export function setCloexec(fd: number, on: boolean): void {
  fcntl(fd, F_SETFD, on ? 1 : 0);
}

/** Duplicates `fd` to the lowest free number (close-on-exec). */
export function dupCloexec(fd: number): number {
  return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/** Duplicates `oldFd` onto `newFd`, optionally with O_CLOEXEC. */
export function dup3(oldFd: number, newFd: number, cloexec: boolean): number {
  return dup3Native(oldFd, newFd, cloexec ? O_CLOEXEC : 0);
}

/** Creates a pipe; returns [readFd, writeFd], close-on-exec unless `flags` says otherwise. */
export function pipe2(flags = O_CLOEXEC): [number, number] {
  const fds = [0, 0];
  pipe2Native(fds, flags);
  return [fds[0] ?? -1, fds[1] ?? -1];
}

/** Closes a descriptor. */
export function close(fd: number): void {
  closeNative(fd);
}

/** Closes a descriptor, ignoring errors: for clean-up paths. */
export function closeQuietly(fd: number | undefined): void {
  if (fd === undefined || fd < 0) {
    return;
  }
  try {
    closeNative(fd);
  } catch {
    // Nothing useful can be done about a failed close during clean-up.
  }
}

/** Bytes readable right now from a pipe or socket (FIONREAD). */
export function bytesReadable(fd: number): number {
  const out = [0];
  ioctlIntNative(fd, FIONREAD, out);
  return out[0] ?? 0;
}

/** An integer-valued ioctl whose result is written through a pointer. */
export function ioctlInt(fd: number, request: number): number {
  const out = [0];
  ioctlIntNative(fd, request, out);
  return out[0] ?? 0;
}

/** Capacity of a pipe in bytes. */
export function getPipeSize(fd: number): number {
  return fcntl(fd, F_GETPIPE_SZ);
}

/** Sets the capacity of a pipe; returns the capacity the kernel chose. */
export function setPipeSize(fd: number, size: number): number {
  return fcntl(fd, F_SETPIPE_SZ, size);
}

/** ptrace with integer addr and data. */
export function ptrace(request: number, pid: number, data = 0): number {
  return ptraceNative(request, pid, 0, data);
}

/** waitpid; returns [pid, status]. */
export function waitpid(pid: number, options: number): [number, number] {
  const status = [0];
  const got = waitpidNative(pid, status, options);
  return [got, status[0] ?? 0];
}

function rlimit(): { type: TypeObject; call: (...args: unknown[]) => number } {
  rlimitType ??= koffi.struct('fdcr_rlimit', { cur: 'uint64_t', max: 'uint64_t' });
  prlimitNative ??= bindLibc(
    'int prlimit(int pid, int resource, const fdcr_rlimit *limit, _Out_ fdcr_rlimit *old)',
  );
  return { type: rlimitType, call: prlimitNative };
}

/** This process's RLIMIT_NOFILE as [soft, hard]. */
export function getNofileLimit(): [number, number] {
  const old = { cur: 0, max: 0 };
  rlimit().call(0, RLIMIT_NOFILE, null, old);
  return [Number(old.cur), Number(old.max)];
}

/**
 * Raises this process's RLIMIT_NOFILE soft limit, and the hard one if needed and allowed.
 * Without CAP_SYS_RESOURCE (root in a container often lacks it) the hard limit cannot grow,
 * so the soft one is raised to it: callers ask with generous headroom, and if the real need
 * is higher still, the call that runs out fails with EMFILE and says so.
 */
export function raiseNofileLimit(wanted: number): void {
  const [soft, hard] = getNofileLimit();
  if (soft >= wanted) {
    return;
  }
  try {
    rlimit().call(0, RLIMIT_NOFILE, { cur: wanted, max: Math.max(hard, wanted) }, null);
  } catch (error) {
    if (!isFdcrError(error) || error.errno !== 'EPERM') throw error;
    if (soft < hard) rlimit().call(0, RLIMIT_NOFILE, { cur: hard, max: hard }, null);
  }
}

/**
 * Grows this process's descriptor table once so that fds up to `highest` fit. The kernel
 * grows it by doubling as fds are opened, and in a multi-threaded process (node always is)
 * each growth waits for an RCU grace period, several milliseconds here: when thousands of fds
 * are about to be opened, one growth up front replaces several. Capped by RLIMIT_NOFILE.
 */
export function reserveFdTable(highest: number): void {
  const target = Math.min(highest, getNofileLimit()[0] - 1);
  const anchor = openSync('/dev/null', 'r');
  try {
    closeQuietly(fcntl(anchor, F_DUPFD_CLOEXEC, target));
  } finally {
    closeSync(anchor);
  }
}

/** Whether a descriptor is open in this process. */
export function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** read(2) that returns 0 bytes instead of throwing when a non-blocking fd has nothing. */
export function readAvailable(fd: number, buffer: Buffer): number {
  try {
    return readSync(fd, buffer, 0, buffer.length, null);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
      return 0;
    }
    throw error;
  }
}

/** Writes all of `data` to `fd`, waiting briefly whenever a non-blocking fd is full. */
export function writeFully(fd: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    try {
      done += writeSync(fd, data, done, data.length - done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') {
        throw error;
      }
      sleepMs(1);
    }
  }
}

/**
 * Writes all of `parts` to `fd`, in order, with as few writev calls as the kernel allows,
 * waiting briefly whenever a non-blocking fd is full.
 */
export function writevFully(fd: number, parts: readonly Uint8Array[]): void {
  const rest = parts.filter((part) => part.length > 0);
  while (rest.length > 0) {
    let done: number;
    try {
      done = writevSync(fd, rest);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      sleepMs(1);
      continue;
    }
    while (done > 0) {
      const first = rest[0] as Uint8Array;
      if (done < first.length) rest[0] = first.subarray(done), (done = 0);
      else done -= first.length, rest.shift();
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks this thread for `ms` milliseconds. */
export function sleepMs(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export { errnoName };

const memfdCreateNative = bindLibc('int memfd_create(const char *name, unsigned int flags)');

/** Creates an anonymous in-memory file (close-on-exec). */
export function memfdCreate(name: string): number {
  return memfdCreateNative(name, 1);
}
