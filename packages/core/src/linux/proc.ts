import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { FdcrError } from '../errors/fdcr-error.js';

/** What /proc/PID/fdinfo/FD says about a descriptor; `extra` keeps the type-specific lines. */
export interface FdInfo {
  pos: bigint;
  /** f_flags of the open file description, without O_CLOEXEC. */
  flags: number;
  /** Whether the descriptor itself has FD_CLOEXEC. */
  cloexec: boolean;
  mntId: number;
  ino: bigint;
  extra: ReadonlyMap<string, string>;
}

const O_CLOEXEC = 0o2000000;

/** Parses the text of /proc/PID/fdinfo/FD. */
export function parseFdInfo(text: string): FdInfo {
  const extra = new Map<string, string>();
  let pos = 0n;
  let rawFlags = 0;
  let mntId = 0;
  let ino = 0n;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      continue;
    }
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'pos') pos = BigInt(value);
    else if (key === 'flags') rawFlags = Number.parseInt(value, 8);
    else if (key === 'mnt_id') mntId = Number(value);
    else if (key === 'ino') ino = BigInt(value);
    else extra.set(key, value);
  }
  return { pos, flags: rawFlags & ~O_CLOEXEC, cloexec: (rawFlags & O_CLOEXEC) !== 0, mntId, ino, extra };
}

/**
 * What to do about a refused pidfd_getfd or /proc read, according to Yama's ptrace_scope
 * (absent when Yama is not built in): its levels decide who may look at whose descriptors.
 */
export function ptraceHint(scopeFile = '/proc/sys/kernel/yama/ptrace_scope'): string {
  let scope = '';
  try {
    scope = readFileSync(scopeFile, 'latin1').trim();
  } catch {
    return 'run fdcr as root or as the owner of the process';
  }
  if (scope === '3') return 'kernel.yama.ptrace_scope is 3, which forbids this for everyone until reboot';
  if (scope === '2') return 'kernel.yama.ptrace_scope is 2: run fdcr as root (CAP_SYS_PTRACE)';
  if (scope === '1') {
    return 'kernel.yama.ptrace_scope is 1: run fdcr as root, or `sysctl kernel.yama.ptrace_scope=0` to allow the owner';
  }
  return 'run fdcr as root or as the owner of the process';
}

/** Turns a /proc read failure into the error a user can act on. */
export function procError(error: unknown, pid: number, what: string): FdcrError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') {
    return new FdcrError('FDCR_E_PROC_NOT_FOUND', `no such process: ${pid}`, {
      pid,
      cause: error,
      hint: 'check the pid with `ps -p PID`; the process may have exited',
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new FdcrError('FDCR_E_PROC_PERMISSION', `cannot read ${what} of process ${pid}: ${code}`, {
      pid,
      errno: code,
      cause: error,
      hint: ptraceHint(),
    });
  }
  return new FdcrError('FDCR_E_PROC_NOT_FOUND', `cannot read ${what} of process ${pid}: ${code}`, {
    pid,
    cause: error,
  });
}

/** The open descriptor numbers of a process, ascending. */
export function listFds(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/fd`)
      .map(Number)
      .sort((a, b) => a - b);
  } catch (error) {
    throw procError(error, pid, 'the descriptors');
  }
}

/** Reused for every fdinfo read: a dump reads one per descriptor, so this is a hot path. */
const fdInfoBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads and parses /proc/PID/fdinfo/FD. One open/read/close into a reused buffer: for
 * /proc files readFileSync stats, grows and concatenates buffers, which costs about four
 * times as much per descriptor. fdinfo is produced whole by the first read, up to a page
 * per seq_file round; reads continue until EOF in case a kind writes more.
 */
export function readFdInfo(pid: number, fd: number): FdInfo {
  const file = openSync(`/proc/${pid}/fdinfo/${fd}`, 'r');
  try {
    let used = 0;
    for (let got = -1; got !== 0 && used < fdInfoBuffer.length; used += got) {
      got = readSync(file, fdInfoBuffer, used, fdInfoBuffer.length - used, null);
    }
    if (used === fdInfoBuffer.length) return parseFdInfo(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'));
    return parseFdInfo(fdInfoBuffer.toString('latin1', 0, used));
  } finally {
    closeSync(file);
  }
}

/** What a descriptor points at, as bytes (paths need not be UTF-8). */
export function readFdLink(pid: number, fd: number): Buffer {
  return readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'buffer' });
}

/** The argument vector of a process, as bytes. */
export function readArgv(pid: number): Buffer[] {
  const raw = readFileSync(`/proc/${pid}/cmdline`);
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0) {
      parts.push(raw.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < raw.length) {
    parts.push(raw.subarray(start));
  }
  return parts;
}

/** The working directory of a process, as bytes. */
export function readCwd(pid: number): Buffer {
  return readlinkSync(`/proc/${pid}/cwd`, { encoding: 'buffer' });
}

/** Fields of /proc/PID/stat that fdcr uses. */
export interface ProcStat {
  comm: string;
  state: string;
  ppid: number;
}

/** Reads /proc/PID/stat (or /proc/PID/task/TID/stat). */
export function readStat(path: string): ProcStat {
  const text = readFileSync(path, 'latin1');
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

/** Reads /proc/PID/stat, with errors a user can act on. */
export function readProcStat(pid: number): ProcStat {
  try {
    return readStat(`/proc/${pid}/stat`);
  } catch (error) {
    throw procError(error, pid, 'the status');
  }
}

/** The thread ids of a process. */
export function listThreads(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map(Number);
}

/** The direct children of a process (all its threads' children). */
export function listChildren(pid: number): number[] {
  const children: number[] = [];
  for (const tid of listThreads(pid)) {
    const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim();
    if (text !== '') {
      children.push(...text.split(' ').map(Number));
    }
  }
  return children;
}

/** A process and all its descendants, parents before children. */
export function listTree(pid: number): number[] {
  readProcStat(pid);
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift() as number;
    result.push(next);
    try {
      queue.push(...listChildren(next));
    } catch {
      // A child that exits while the tree is walked simply is not part of it.
    }
  }
  return result;
}

let bootId: string | undefined;

/** The kernel's boot id (/proc/sys/kernel/random/boot_id), read once. */
export function readBootId(): string {
  bootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  return bootId;
}
