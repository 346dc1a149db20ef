import { bindLibc, bindLibcRaw, linux, syscallError } from '@fdcr/core';

const lseekNative = bindLibc('int64_t lseek(int fd, int64_t offset, int whence)');
const syscallNative = bindLibcRaw('long syscall(long number, ...)');

export const SEEK_SET = 0;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** openat2 resolve flag: fail (EXDEV) if resolution leaves the directory fd. */
export const RESOLVE_BENEATH = 0x08;
/** openat2 resolve flag: refuse /proc magic links on the way. */
export const RESOLVE_NO_MAGICLINKS = 0x02;
/** openat2's dirfd meaning "the current directory". */
export const AT_FDCWD = -100;

/** Same number on x86_64 and arm64: openat2 came after the syscall tables were unified. */
const SYS_OPENAT2 = 437;

/** lseek(2); returns the new offset. */
export function lseek(fd: number, offset: number | bigint, whence: number): number {
  return lseekNative(fd, offset, whence);
}

/** A NUL-terminated copy of a byte path, for calls that take `const char *`. */
function cPath(path: Uint8Array): Buffer {
  return Buffer.concat([path, Buffer.alloc(1)]);
}

/**
 * openat2(2) with a byte path, so names that are not UTF-8 survive; always close-on-exec.
 * Throws FDCR_E_SYSCALL with the errno (EXDEV when RESOLVE_BENEATH is violated).
 */
export function openat2(
  dirfd: number,
  path: Uint8Array,
  flags: number,
  mode: number,
  resolve: number,
): number {
  const how = Buffer.alloc(24);
  how.writeBigUInt64LE(BigInt(flags | linux.O_CLOEXEC), 0);
  how.writeBigUInt64LE(BigInt(mode), 8);
  how.writeBigUInt64LE(BigInt(resolve), 16);
  const args = ['int', dirfd, 'void *', cPath(path), 'void *', how, 'size_t', how.length];
  const fd = Number(syscallNative(SYS_OPENAT2, ...args));
  if (fd < 0) throw syscallError('openat2', linux.lastErrno());
  return fd;
}
