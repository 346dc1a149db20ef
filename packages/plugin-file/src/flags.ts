import { linux } from '@fdcr/core';

const {
  O_ACCMODE, O_APPEND, O_ASYNC, O_DIRECT, O_DIRECTORY, O_DSYNC, O_LARGEFILE, O_NOATIME,
  O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_SYNC, O_WRONLY,
} = linux;

/**
 * Flags that open(2) takes again as they were: the access mode, the status flags and the
 * lookup flags the kernel keeps in f_flags. O_CREAT, O_EXCL, O_TRUNC and O_NOCTTY are never
 * kept by the kernel and never passed here: a restore must not create or truncate anything.
 */
const REOPEN = O_ACCMODE | O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_SYNC | O_DSYNC |
  O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_PATH;

/** Flags an O_PATH open honours; the kernel ignores every other one. */
const PATH_ONLY = O_PATH | O_DIRECTORY | O_NOFOLLOW;

/** The flags to reopen a file with, from its recorded f_flags. */
export function reopenFlags(flags: number): number {
  if ((flags & O_PATH) !== 0) return flags & PATH_ONLY;
  return flags & REOPEN;
}

/**
 * Flags open(2) accepts but ignores, so they must be set with F_SETFL afterwards.
 * Limitation: O_ASYNC is set again but the signal owner (F_SETOWN) is not recorded, so
 * SIGIO goes nowhere until the restored program sets it.
 */
export function lateFlags(flags: number): number {
  return (flags & O_PATH) !== 0 ? 0 : flags & O_ASYNC;
}

/** Whether an fd was open only for appending writes, like a log. */
export function isAppendOnly(flags: number): boolean {
  return (flags & O_ACCMODE) === O_WRONLY && (flags & O_APPEND) !== 0;
}

/** Whether the fd can read (an O_PATH fd cannot, whatever its access bits). */
export function canRead(flags: number): boolean {
  const mode = flags & O_ACCMODE;
  return (flags & O_PATH) === 0 && (mode === O_RDONLY || mode === O_RDWR);
}

const NAMES: ReadonlyArray<[number, string]> = [
  [O_PATH, 'path'], [O_APPEND, 'append'], [O_NONBLOCK, 'nonblock'], [O_NOATIME, 'noatime'],
  [O_DIRECT, 'direct'], [O_SYNC, 'sync'], [O_DSYNC, 'dsync'], [O_ASYNC, 'async'],
  [O_NOFOLLOW, 'nofollow'],
];

/** A short human form of flags, e.g. `rw,append,nonblock`, for `fdcr show`. */
export function describeFlags(flags: number): string {
  const mode = flags & O_ACCMODE;
  const parts = [mode === O_RDONLY ? 'r' : mode === O_WRONLY ? 'w' : 'rw'];
  let rest = flags;
  for (const [bit, name] of NAMES) {
    // O_SYNC contains O_DSYNC's bit: name the larger one only.
    if ((rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  return parts.join(',');
}
