import koffi, { type LibraryHandle } from 'koffi';
import { FdcrError } from '../errors/fdcr-error.js';
import { errnoNames } from './constants.js';

type Native = (...args: unknown[]) => number | bigint;

let handle: LibraryHandle | undefined;

/** The process's libc, loaded on first use so commands that make no syscalls stay fast. */
export function libc(): LibraryHandle {
  handle ??= koffi.load('libc.so.6');
  return handle;
}

/** The symbolic name of an errno value, e.g. `EPERM`. */
export function errnoName(errno: number): string {
  return errnoNames[errno] ?? `errno ${errno}`;
}

/** The error fdcr throws when a system call fails: code FDCR_E_SYSCALL, errno and syscall set. */
export function syscallError(syscall: string, errno: number, context = ''): FdcrError {
  const name = errnoName(errno);
  const where = context === '' ? '' : ` (${context})`;
  return new FdcrError('FDCR_E_SYSCALL', `${syscall} failed${where}: ${name}`, {
    syscall,
    errno: name,
  });
}

/** A checked libc function: returns its result, or throws a syscall error on -1. */
export type CheckedCall = (...args: unknown[]) => number;

/**
 * Binds a libc function by its C prototype (koffi syntax) and wraps it so that a -1 result
 * becomes a typed error naming the function. `ssize_t` must be spelled `intptr_t` for koffi.
 * Plugins outside this repository use this for the syscalls they need.
 */
export function bindLibc(prototype: string): CheckedCall {
  let native: Native | undefined;
  const name = /([A-Za-z_0-9]+)\s*\(/.exec(prototype)?.[1] ?? prototype;
  return (...args: unknown[]): number => {
    native ??= libc().func(prototype) as Native;
    const result = Number(native(...args));
    if (result === -1) {
      throw syscallError(name, koffi.errno());
    }
    return result;
  };
}

/** Binds a libc function without errno checking, for calls whose -1 is not an error. */
export function bindLibcRaw(prototype: string): Native {
  let native: Native | undefined;
  return (...args: unknown[]) => {
    native ??= libc().func(prototype) as Native;
    return native(...args);
  };
}

/** The errno left by the last native call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}
