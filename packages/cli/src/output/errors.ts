import { painter } from './style.js';

/** Exit status of a usage error (bad arguments). */
export const EXIT_USAGE = 2;

/** Exit status of any other fdcr error. */
export const EXIT_FAILURE = 1;

/** The stable error codes of the CLI itself; core and plugin codes are catalogued there. */
export const cliErrorCodes = {
  FDCR_E_CLI_USAGE: 'The command line is wrong: unknown command or option, missing or bad value.',
  FDCR_E_CLI_GRAPHVIZ: 'SVG output was asked for but the Graphviz `dot` program is missing or failed.',
} as const;

/** A stable code of the CLI. */
export type CliErrorCode = keyof typeof cliErrorCodes;

/** An error of the CLI itself, with a stable code and an optional hint. */
export class CliError extends Error {
  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** A mistake in the command line, reported with exit status 2. */
export class CliUsageError extends CliError {
  constructor(message: string, hint?: string) {
    super('FDCR_E_CLI_USAGE', message, hint);
  }
}

/**
 * Further advice the CLI adds to core errors: what to run next, in CLI terms. Core hints
 * stay library-neutral, so they do not mention commands.
 */
const nextSteps: Readonly<Record<string, string>> = {
  FDCR_E_DUMP_UNSUPPORTED_FD: '`fdcr inspect PID` shows every descriptor and which plugin handles it',
  FDCR_E_IMAGE_VERSION: '`fdcr --version` prints this version; `fdcr show` fails the same way on such images',
  FDCR_E_DUMP_FREEZE: 'find the tracer with `grep TracerPid /proc/PID/status`; `fdcr inspect PID` works without freezing',
};

interface Reportable {
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  stack?: unknown;
}

/**
 * Prints an error as `fdcr: CODE: message` plus hint lines, with the stack only when
 * asked for; returns the exit status to use.
 */
export function reportError(
  error: unknown,
  verbose: boolean,
  stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): number {
  const paint = painter(stderr);
  const e = (error ?? {}) as Reportable;
  const code = typeof e.code === 'string' && e.code.startsWith('FDCR_E_') ? e.code : 'FDCR_E_INTERNAL';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const internal = code === 'FDCR_E_INTERNAL' && !(typeof e.code === 'string');
  const text = internal ? `internal error (a bug in fdcr): ${message}` : message;
  stderr.write(`${paint.red('fdcr:')} ${code}: ${text}\n`);
  if (typeof e.hint === 'string') stderr.write(`${paint.yellow('hint:')} ${e.hint}\n`);
  const next = nextSteps[code];
  if (next !== undefined) stderr.write(`${paint.yellow('hint:')} ${next}\n`);
  if (verbose && typeof e.stack === 'string') stderr.write(`${e.stack}\n`);
  else if (internal) stderr.write('run again with --verbose for the stack trace\n');
  return error instanceof CliUsageError ? EXIT_USAGE : EXIT_FAILURE;
}
