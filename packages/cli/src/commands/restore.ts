import { ImageReader, restore, type ProcessCommand, type StartedProcess } from '@fdcr/core';
import { many, parse, parsePid, splitCommand } from '../args.js';
import { CliUsageError } from '../output/errors.js';
import { cliContainer } from '../plugins.js';
import { progressReporter } from '../output/progress.js';

const HELP = `Usage: fdcr restore FILE|- [--exec PID=COMMAND ...] [-- COMMAND [ARGS...]]

Recreates the open files of an image and starts each of its processes with exactly its
descriptors, at their original numbers. The image is checked whole before anything is
created. fdcr waits for the processes, forwards SIGINT and SIGTERM to them, and exits
with the first non-zero status among them (0 if all succeed).

Options:
  --exec PID=COMMAND   shell command to run for original process PID (repeatable)
  --allow-changed      restore files that changed since the checkpoint instead of refusing
  --root DIR           open recorded absolute paths under DIR; paths leading out are refused
  --json               when all have exited, print a JSON summary on stderr
  -- COMMAND [ARGS]    the command to run for a single-process image
Without a command, each process re-runs its recorded argv in its recorded cwd.

Examples:
  fdcr restore app.fdcr
  fdcr restore app.fdcr -- python3 consumer.py
  fdcr restore pipeline.fdcr --exec 101='./producer' --exec 102='./consumer'
  ssh other fdcr dump --pid 1234 -o - | fdcr restore -
`;

function commandsFrom(execs: string[], command: string[] | undefined): Map<number, ProcessCommand> | 'single' {
  const map = new Map<number, ProcessCommand>();
  for (const spec of execs) {
    const at = spec.indexOf('=');
    if (at <= 0) throw new CliUsageError(`invalid --exec value: '${spec}'`, 'use --exec PID=COMMAND, e.g. --exec 1234="./app"');
    map.set(parsePid(spec.slice(0, at), '--exec pid'), { shell: spec.slice(at + 1) });
  }
  if (command !== undefined && command.length === 0) throw new CliUsageError('missing command after --');
  if (command !== undefined && execs.length > 0) {
    throw new CliUsageError('give either --exec PID=COMMAND or -- COMMAND, not both', 'see `fdcr restore --help`');
  }
  return command === undefined ? map : 'single';
}

/** `fdcr restore`: restore an image into new processes and wait for them. */
export async function restoreCommand(args: string[]): Promise<number> {
  const { own, command } = splitCommand(args);
  const { values, positionals } = parse('restore', own, {
    exec: { type: 'string', multiple: true },
    'allow-changed': { type: 'boolean' },
    root: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError('give exactly one image (or - for standard input)', 'see `fdcr restore --help`');
  const spec = commandsFrom(many(values.exec), command);
  const container = cliContainer();
  const reader = ImageReader.open(positionals[0] as string);
  let commands: Map<number, ProcessCommand>;
  if (spec === 'single') {
    const procs = reader.contents.processes;
    if (procs.length !== 1) {
      reader.close();
      throw new CliUsageError(`the image holds ${procs.length} processes; -- COMMAND needs exactly one`, 'use --exec PID=COMMAND for each process');
    }
    commands = new Map([[procs[0]!.pid, { argv: command as string[] }]]);
  } else {
    commands = spec;
  }
  const file = { allowChanged: values['allow-changed'] === true, root: values.root };
  const onProgress = values.quiet ? undefined : progressReporter(process.stderr);
  const run = await restore(container, { image: reader, commands, pluginOptions: { file }, onProgress });
  reader.close();
  const forward = (signal: NodeJS.Signals): void => {
    for (const p of run.processes) p.child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const statuses = await run.wait();
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  if (values.json) process.stderr.write(`${JSON.stringify(restoreSummary(run.processes, statuses))}\n`);
  return statuses.find((s) => s !== 0) ?? 0;
}

/** The `--json` summary: each restored process's original and new pid and exit status. */
function restoreSummary(
  processes: readonly StartedProcess[],
  statuses: readonly number[],
): Record<string, unknown> {
  return {
    processes: processes.map((p, i) => ({
      pid: p.originalPid,
      newPid: p.child.pid ?? null,
      status: statuses[i] ?? null,
    })),
  };
}
