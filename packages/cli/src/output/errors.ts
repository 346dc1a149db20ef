/** Exit status of a usage error (bad arguments). */
export const EXIT_USAGE = 2;

/** Exit status of any other fdcr error. */
export const EXIT_FAILURE = 1;

/** A mistake in the command line, reported with exit status 2. */
export class CliUsageError extends Error {
  readonly code = 'FDCR_E_CLI_USAGE';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

interface Reportable {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  stack?: unknown;
}

/**
 * Prints an error as `fdcr: CODE: message` plus a hint line, with the stack only when
 * asked for; returns the exit status to use.
 */
export function reportError(error: unknown, verbose: boolean): number {
  const e = (error ?? {}) as Reportable;
  const code = typeof e.code === 'string' && e.code.startsWith('FDCR_E_') ? e.code : 'FDCR_E_INTERNAL';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const internal = code === 'FDCR_E_INTERNAL' && !(typeof e.code === 'string');
  process.stderr.write(`fdcr: ${code}: ${internal ? `internal error (a bug in fdcr): ${message}` : message}\n`);
  if (typeof e.hint === 'string') process.stderr.write(`hint: ${e.hint}\n`);
  if (verbose && typeof e.stack === 'string') process.stderr.write(`${e.stack}\n`);
  return error instanceof CliUsageError ? EXIT_USAGE : EXIT_FAILURE;
}
