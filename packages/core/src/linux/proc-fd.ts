import { closeSync, openSync, readFileSync, readlinkSync, readSync, statSync, type BigIntStats } from 'node:fs';
import koffi from 'koffi';
import { O_CLOEXEC, O_DIRECTORY, O_RDONLY } from './constants.js';
import { libc, syscallError } from './libc.js';
import { parseFdInfo, type FdInfo } from './proc.js';

/**
 * Offsets of the struct stat fields fdcr reads, per architecture (glibc's
 * bits/struct_stat.h): x86_64 puts st_nlink (64-bit) before st_mode; arm64 uses the
 * asm-generic layout with a 32-bit st_nlink after st_mode and a 32-bit st_blksize.
 */
interface StatLayout {
  size: number;
  dev: number;
  ino: number;
  nlink: number;
  nlink32: boolean;
  mode: number;
  uid: number;
  gid: number;
  rdev: number;
  fileSize: number;
  blksize: number;
  blksize32: boolean;
  blocks: number;
  atime: number;
}

const LAYOUTS: Partial<Record<string, StatLayout>> = {
  x64: {
    size: 144, dev: 0, ino: 8, nlink: 16, nlink32: false, mode: 24, uid: 28, gid: 32, rdev: 40,
    fileSize: 48, blksize: 56, blksize32: false, blocks: 64, atime: 72,
  },
  arm64: {
    size: 128, dev: 0, ino: 8, mode: 16, nlink: 20, nlink32: true, uid: 24, gid: 28, rdev: 32,
    fileSize: 48, blksize: 56, blksize32: true, blocks: 64, atime: 72,
  },
};

/** The struct stat layout of this architecture, or undefined where fdcr falls back to node:fs. */
const layout = LAYOUTS[process.arch];

type Native = (...args: unknown[]) => number;

interface NativeCalls {
  openat: Native;
  fstatat: Native;
  readlinkat: Native;
  read: Native;
  close: Native;
}

let calls: NativeCalls | undefined;

function native(): NativeCalls {
  calls ??= {
    openat: libc().func('int openat(int dirfd, const char *path, int flags)') as Native,
    fstatat: libc().func('int fstatat(int dirfd, const char *path, void *buf, int flags)') as Native,
    readlinkat: libc().func('intptr_t readlinkat(int dirfd, const char *path, void *buf, size_t n)') as Native,
    read: libc().func('intptr_t read(int fd, void *buf, size_t n)') as Native,
    close: libc().func('int close(int fd)') as Native,
  };
  return calls;
}

const NS_PER_MS = 1_000_000n;

/**
 * A BigIntStats filled from a raw struct stat. It has the fields and methods of Node's
 * BigIntStats (what FdProbe.stat promises plugins) without Node's per-call overhead; the
 * Date fields are computed only when read.
 */
export class RawStats implements BigIntStats {
  dev: bigint;
  ino: bigint;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  rdev: bigint;
  size: bigint;
  blksize: bigint;
  blocks: bigint;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;

  constructor(view: DataView, at: StatLayout) {
    this.dev = view.getBigUint64(at.dev, true);
    this.ino = view.getBigUint64(at.ino, true);
    this.mode = BigInt(view.getUint32(at.mode, true));
    this.nlink = at.nlink32 ? BigInt(view.getUint32(at.nlink, true)) : view.getBigUint64(at.nlink, true);
    this.uid = BigInt(view.getUint32(at.uid, true));
    this.gid = BigInt(view.getUint32(at.gid, true));
    this.rdev = view.getBigUint64(at.rdev, true);
    this.size = view.getBigInt64(at.fileSize, true);
    this.blksize = at.blksize32
      ? BigInt(view.getInt32(at.blksize, true))
      : view.getBigInt64(at.blksize, true);
    this.blocks = view.getBigInt64(at.blocks, true);
    this.atimeNs = timespecNs(view, at.atime);
    this.mtimeNs = timespecNs(view, at.atime + 16);
    this.ctimeNs = timespecNs(view, at.atime + 32);
  }

  // struct stat has no birth time; Node reports the status change time there as well.
  get birthtimeNs(): bigint { return this.ctimeNs; }
  get atimeMs(): bigint { return this.atimeNs / NS_PER_MS; }
  get mtimeMs(): bigint { return this.mtimeNs / NS_PER_MS; }
  get ctimeMs(): bigint { return this.ctimeNs / NS_PER_MS; }
  get birthtimeMs(): bigint { return this.ctimeMs; }
  get atime(): Date { return new Date(Number(this.atimeMs)); }
  get mtime(): Date { return new Date(Number(this.mtimeMs)); }
  get ctime(): Date { return new Date(Number(this.ctimeMs)); }
  get birthtime(): Date { return this.ctime; }

  isFile(): boolean { return this.type() === 0o100000; }
  isDirectory(): boolean { return this.type() === 0o040000; }
  isBlockDevice(): boolean { return this.type() === 0o060000; }
  isCharacterDevice(): boolean { return this.type() === 0o020000; }
  isSymbolicLink(): boolean { return this.type() === 0o120000; }
  isFIFO(): boolean { return this.type() === 0o010000; }
  isSocket(): boolean { return this.type() === 0o140000; }

  private type(): number {
    return Number(this.mode) & 0o170000;
  }
}

function timespecNs(view: DataView, at: number): bigint {
  return view.getBigInt64(at, true) * 1_000_000_000n + view.getBigInt64(at + 8, true);
}

/**
 * Reads what /proc says about the descriptors of one process without duplicating them:
 * stat through the magic link /proc/PID/fd/N (which follows to the open file's inode,
 * like fstat on the descriptor), the link text and /proc/PID/fdinfo/N. On x86_64 and
 * arm64 the calls go straight to libc relative to directory fds of /proc/PID/fd and
 * /proc/PID/fdinfo, into buffers reused for every descriptor: the node:fs equivalents cost
 * several microseconds each per call here, and a dump makes three per descriptor.
 * Elsewhere node:fs is used. Errors are FDCR_E_SYSCALL with the errno (ENOENT when the fd
 * or the process is gone). Call `close` when done.
 */
export class ProcFdReader {
  private readonly statBuffer = Buffer.alloc(256);
  private readonly statView = new DataView(this.statBuffer.buffer, this.statBuffer.byteOffset, 256);
  private readonly linkBuffer = Buffer.allocUnsafe(4097);
  private readonly infoBuffer = Buffer.allocUnsafe(16 * 1024);

  private constructor(
    readonly pid: number,
    private readonly fdDir: number,
    private readonly infoDir: number,
  ) {}

  /** Opens the /proc directories of `pid` (native path) or just remembers the pid. */
  static open(pid: number): ProcFdReader {
    if (layout === undefined) return new ProcFdReader(pid, -1, -1);
    const fdDir = openDir(`/proc/${pid}/fd`);
    try {
      return new ProcFdReader(pid, fdDir, openDir(`/proc/${pid}/fdinfo`));
    } catch (error) {
      native().close(fdDir);
      throw error;
    }
  }

  /** stat of the open file behind descriptor `fd`. */
  stat(fd: number): BigIntStats {
    if (layout === undefined) return statSync(`/proc/${this.pid}/fd/${fd}`, { bigint: true });
    if (native().fstatat(this.fdDir, String(fd), this.statBuffer, 0) !== 0) {
      throw syscallError('stat', koffi.errno(), `/proc/${this.pid}/fd/${fd}`);
    }
    return new RawStats(this.statView, layout);
  }

  /** What descriptor `fd` points at, as bytes (paths need not be UTF-8). */
  link(fd: number): Buffer {
    if (layout === undefined) return readlinkSync(`/proc/${this.pid}/fd/${fd}`, { encoding: 'buffer' });
    const got = Number(native().readlinkat(this.fdDir, String(fd), this.linkBuffer, this.linkBuffer.length));
    if (got < 0) throw syscallError('readlink', koffi.errno(), `/proc/${this.pid}/fd/${fd}`);
    if (got === this.linkBuffer.length) return readlinkSync(`/proc/${this.pid}/fd/${fd}`, { encoding: 'buffer' });
    return Buffer.from(this.linkBuffer.subarray(0, got));
  }

  /** /proc/PID/fdinfo/FD, parsed. */
  info(fd: number): FdInfo {
    const used = layout === undefined ? this.readInfoFs(fd) : this.readInfoNative(fd);
    // A full buffer may be cut short: read the whole file the slow way.
    if (used === this.infoBuffer.length) return parseFdInfo(readFileSync(`/proc/${this.pid}/fdinfo/${fd}`, 'latin1'));
    return parseFdInfoBytes(this.infoBuffer, used);
  }

  close(): void {
    if (this.fdDir >= 0) native().close(this.fdDir);
    if (this.infoDir >= 0) native().close(this.infoDir);
  }

  // One read: fdinfo is produced whole by the first read as long as it fits the buffer
  // (seq_file fills it in one go), and reading on to EOF would cost one more syscall per
  // descriptor. `info` handles a full buffer.
  private readInfoNative(fd: number): number {
    const file = native().openat(this.infoDir, String(fd), O_RDONLY | O_CLOEXEC);
    if (file < 0) throw syscallError('open', koffi.errno(), `/proc/${this.pid}/fdinfo/${fd}`);
    const used = Number(native().read(file, this.infoBuffer, this.infoBuffer.length));
    const errno = koffi.errno();
    native().close(file);
    if (used < 0) throw syscallError('read', errno, `/proc/${this.pid}/fdinfo/${fd}`);
    return used;
  }

  private readInfoFs(fd: number): number {
    const file = openSync(`/proc/${this.pid}/fdinfo/${fd}`, 'r');
    try {
      return readSync(file, this.infoBuffer, 0, this.infoBuffer.length, null);
    } finally {
      closeSync(file);
    }
  }
}

function openDir(path: string): number {
  const fd = native().openat(-100, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw syscallError('open', koffi.errno(), path);
  return fd;
}

const NO_EXTRA: ReadonlyMap<string, string> = new Map();
const COLON = 0x3a;
const NEWLINE = 0x0a;

/**
 * Parses fdinfo text straight from bytes: the four common keys become numbers without
 * building strings, and only type-specific lines (eventfd counts, inotify watches, ...)
 * become strings in `extra`. Same result as parseFdInfo on the decoded text.
 */
export function parseFdInfoBytes(bytes: Uint8Array, length: number): FdInfo {
  let pos = 0n;
  let rawFlags = 0;
  let mntId = 0;
  let ino = 0n;
  let extra: Map<string, string> | undefined;
  for (let start = 0; start < length; ) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end < 0 || end > length) end = length;
    const colon = bytes.indexOf(COLON, start);
    if (colon > start && colon < end) {
      const key = keyOf(bytes, start, colon);
      if (key === 'pos') pos = decimal(bytes, colon + 1, end);
      else if (key === 'flags') rawFlags = octal(bytes, colon + 1, end);
      else if (key === 'mnt_id') mntId = Number(decimal(bytes, colon + 1, end));
      else if (key === 'ino') ino = decimal(bytes, colon + 1, end);
      else {
        extra ??= new Map();
        extra.set(latin1(bytes, start, colon), latin1(bytes, colon + 1, end).trim());
      }
    }
    start = end + 1;
  }
  const cloexec = (rawFlags & O_CLOEXEC) !== 0;
  return { pos, flags: rawFlags & ~O_CLOEXEC, cloexec, mntId, ino, extra: extra ?? NO_EXTRA };
}

/** The key of an fdinfo line if it is one parsed into a field, else undefined. */
function keyOf(bytes: Uint8Array, start: number, colon: number): string | undefined {
  const length = colon - start;
  const first = bytes[start];
  if (length === 3 && first === 0x70 && bytes[start + 1] === 0x6f && bytes[start + 2] === 0x73) return 'pos';
  if (length === 3 && first === 0x69 && bytes[start + 1] === 0x6e && bytes[start + 2] === 0x6f) return 'ino';
  if (length === 5 && first === 0x66 && latin1(bytes, start, colon) === 'flags') return 'flags';
  if (length === 6 && first === 0x6d && latin1(bytes, start, colon) === 'mnt_id') return 'mnt_id';
  return undefined;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** A decimal field, exact beyond 2^53 (file offsets can be that large); negative ones the slow way. */
function decimal(bytes: Uint8Array, start: number, end: number): bigint {
  let value = 0;
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c >= 0x30 && c <= 0x39) value = value * 10 + (c - 0x30), digits++;
    else if (c === 0x2d) digits = Infinity;
  }
  return digits <= 15 ? BigInt(value) : BigInt(latin1(bytes, start, end).trim());
}

function octal(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if (c >= 0x30 && c <= 0x37) value = value * 8 + (c - 0x30);
  }
  return value;
}
