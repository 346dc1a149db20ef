import type { ErrorCode } from './codes.js';

/** A core code, or a plugin's own `FDCR_E_<AREA>_<CONDITION>` code. */
export type AnyErrorCode = ErrorCode | `FDCR_E_${string}`;

/** Structured context carried by every fdcr error. */
export interface FdcrErrorDetails {
  pid?: number;
  fd?: number;
  errno?: string;
  syscall?: string;
  path?: string;
  /** What the user can do about it, shown by the CLI under the message. */
  hint?: string;
  cause?: unknown;
}

/** The one error type fdcr throws: a stable `code` plus the ids needed to act on it. */
export class FdcrError extends Error {
  override readonly name = 'FdcrError';
  readonly code: AnyErrorCode;
  readonly pid?: number;
  readonly fd?: number;
  readonly errno?: string;
  readonly syscall?: string;
  readonly path?: string;
  readonly hint?: string;

  constructor(code: AnyErrorCode, message: string, details: FdcrErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.pid = details.pid;
    this.fd = details.fd;
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.path = details.path;
    this.hint = details.hint;
  }
}

/** Whether `error` is an FdcrError, optionally with the given code. */
export function isFdcrError(error: unknown, code?: AnyErrorCode): error is FdcrError {
  return error instanceof FdcrError && (code === undefined || error.code === code);
}
