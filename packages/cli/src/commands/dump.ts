import { checkpoint, resolveTargets } from '@fdcr/core';
import { parseSize } from '@fdcr/plugin-file';
import { many, parse, parsePid } from '../args.js';
import { CliUsageError } from '../output/errors.js';
import { cliContainer } from '../plugins.js';
import { progressReporter } from '../output/progress.js';
import { humanBytes } from '../output/format.js';

const HELP = `Usage: fdcr dump (--pid PID ... | --tree PID ...) -o FILE|- [options]

Checkpoints the open files of live processes into an image. The targets are frozen for the
duration of the dump and left running, unchanged, afterwards.

Options:
  -p, --pid PID          a process to checkpoint (repeatable)
  -t, --tree PID         a process and all its descendants (repeatable)
  -o, --output FILE      the image to write, or - for standard output
  --skip-unsupported     record fds no plugin handles as external instead of failing
  --max-deleted-size N   largest deleted-but-open file whose data is saved (default 64M)
  --kill                 kill the targets (SIGKILL) once the image is complete, before
                         they are thawed, so they cannot run on past the checkpoint
  --json                 print the summary as JSON

Examples:
  fdcr dump --pid 1234 -o app.fdcr
  fdcr dump --tree 1234 -o - | ssh other fdcr restore -
`;

/** `fdcr dump`: checkpoint processes into an image. */
export async function dumpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('dump', args, {
    pid: { type: 'string', short: 'p', multiple: true },
    tree: { type: 'string', short: 't', multiple: true },
    output: { type: 'string', short: 'o' },
    'skip-unsupported': { type: 'boolean' },
    kill: { type: 'boolean' },
    'max-deleted-size': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new CliUsageError(`unexpected argument: '${positionals[0]}'`, 'see `fdcr dump --help`');
  if (values.output === undefined) throw new CliUsageError('missing -o FILE (or -o - for standard output)', 'see `fdcr dump --help`');
  const pids = many(values.pid).map((p) => parsePid(p));
  const trees = many(values.tree).map((p) => parsePid(p, 'tree pid'));
  if (pids.length + trees.length === 0) throw new CliUsageError('give at least one --pid or --tree', 'see `fdcr dump --help`');
  const targets = resolveTargets({ pids, trees });
  const summary = await checkpoint(cliContainer(), {
    pids: targets,
    output: values.output,
    skipUnsupported: values['skip-unsupported'] === true,
    pluginOptions: { file: fileOptions(values['max-deleted-size']) },
    onProgress: values.quiet ? undefined : progressReporter(process.stderr),
    kill: values.kill === true,
  });
  const toStdout = values.output === '-';
  if (values.json) (toStdout ? process.stderr : process.stdout).write(`${JSON.stringify(summary)}\n`);
  else if (!values.quiet) {
    process.stderr.write(
      `dumped ${summary.pids.length} process(es), ${summary.descriptors} fds, ${summary.entities} open files, ` +
        `${humanBytes(summary.dataBytes)} of data into ${toStdout ? 'stdout' : values.output} ` +
        `(${humanBytes(summary.imageBytes)}, frozen ${summary.frozenMs.toFixed(1)} ms)\n`,
    );
  }
  return 0;
}

function fileOptions(maxDeleted: string | undefined): Record<string, unknown> {
  if (maxDeleted === undefined) return {};
  const bytes = parseSize(maxDeleted);
  if (bytes === undefined) throw new CliUsageError(`invalid --max-deleted-size: '${maxDeleted}'`, 'give a size in bytes or with K, M, G, e.g. 256M');
  return { maxDeletedBytes: bytes };
}

