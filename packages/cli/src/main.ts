import { CliUsageError, reportError } from './output/errors.js';
import { CLI_VERSION } from './version.js';

/** A CLI command: parses its own arguments and returns the exit status. */
export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  dump: async () => (await import('./commands/dump.js')).dumpCommand,
  restore: async () => (await import('./commands/restore.js')).restoreCommand,
  show: async () => (await import('./commands/show.js')).showCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspectCommand,
};

const HELP = `fdcr ${CLI_VERSION}: checkpoint and restore the open files of live Linux processes

Usage: fdcr <command> [options]

Commands:
  dump      checkpoint processes' open files into an image
  restore   recreate an image's files and start its processes with them
  show      print what an image holds (--graph for a Graphviz drawing)
  inspect   show the live descriptors of running processes, without disturbing them

Options:
  -h, --help     show help (also: fdcr <command> --help)
  -V, --version  print the version
  --verbose      show stack traces and more detail
  -q, --quiet    print nothing but errors and the output asked for
  --json         machine-readable output, on every command (see docs/cli.md)

Exit status: 0 success; 1 an fdcr error (code and hint on stderr); 2 a usage error;
restore exits with the first non-zero status of the processes it restored.
Colour is used only on a terminal and never when NO_COLOR is set.

Examples:
  fdcr inspect 1234 --data
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
