import { CliUsageError, reportError } from './output/errors.js';
import { CLI_VERSION } from './version.js';

/** A CLI command: parses its own arguments and returns the exit status. */
export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  dump: async () => (await import('./commands/dump.js')).dumpCommand,
  restore: async () => (await import('./commands/restore.js')).restoreCommand,
  show: async () => (await import('./commands/show.js')).showCommand,
};

const HELP = `fdcr ${CLI_VERSION}: checkpoint and restore the open files of live Linux processes

Usage: fdcr <command> [options]

Commands:
  dump      checkpoint processes' open files into an image
  restore   recreate an image's files and start its processes with them
  show      print what an image holds

Options:
  -h, --help     show help (also: fdcr <command> --help)
  -V, --version  print the version
  --verbose      show stack traces and debug output
  --quiet        print nothing but errors

Examples:
  fdcr dump --pid 1234 -o app.fdcr
  fdcr show app.fdcr
  fdcr restore app.fdcr -- ./app --resume
`;

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${CLI_VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  const verbose = rest.includes('--verbose');
  try {
    if (load === undefined) throw new CliUsageError(`unknown command: ${name}`, 'run `fdcr --help` for the list of commands');
    return await (await load())(rest);
  } catch (error) {
    return reportError(error, verbose);
  }
}
