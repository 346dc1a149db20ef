import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliUsageError } from './output/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const commonOptions = {
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const satisfies Options;

/** Splits argv at the first `--`: options before, a command to run after. */
export function splitCommand(args: string[]): { own: string[]; command: string[] | undefined } {
  const at = args.indexOf('--');
  return at < 0 ? { own: args, command: undefined } : { own: args.slice(0, at), command: args.slice(at + 1) };
}

/** Parsed values of a command's options plus the common ones. */
export type Parsed<T extends Options> = {
  values: { [K in keyof (T & typeof commonOptions)]?: (T & typeof commonOptions)[K] extends { type: 'boolean' } ? boolean : (T & typeof commonOptions)[K] extends { multiple: true } ? string[] : string };
  positionals: string[];
};

/** parseArgs with errors turned into usage errors that name the command's help. */
export function parse<T extends Options>(command: string, args: string[], options: T): Parsed<T> {
  try {
    return parseArgs({
      args,
      options: { ...commonOptions, ...options },
      allowPositionals: true,
      strict: true,
    }) as Parsed<T>;
  } catch (error) {
    throw new CliUsageError((error as Error).message, `see \`fdcr ${command} --help\``);
  }
}

/** Parses a pid argument, echoing a bad value. */
export function parsePid(value: string, what = 'pid'): number {
  const pid = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new CliUsageError(`invalid ${what}: '${value}'`, 'a pid is a positive integer, e.g. --pid 1234');
  }
  return pid;
}

/** Reads a repeatable string option as an array. */
export function many(value: string | boolean | (string | boolean)[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}
