import { inspectProcesses, resolveTargets, type LiveView } from '@fdcr/core';
import { parse, parsePid } from '../args.js';
import { CliUsageError } from '../output/errors.js';
import { graphFormat, normaliseGraphArg, renderSvg, toDot } from '../output/graph.js';
import { liveGraph } from '../output/live-graph.js';
import { liveViewJson, renderLiveProcess, sharerCounts } from '../output/live-view.js';
import { painter } from '../output/style.js';
import { cliContainer } from '../plugins.js';
import { CLI_VERSION } from '../version.js';

const HELP = `Usage: fdcr inspect PID [PID ...] [--tree] [--data] [--json | --graph [dot|svg]]

Shows the open descriptors of running processes, live: type, target, access mode and
status flags, offset, FD_CLOEXEC, which descriptors share one open file (FILE #n xN),
bytes pending in pipes and sockets, pipe capacity, and who holds the other end of each
pipe, FIFO and socket among all processes on the system. Writes no image and leaves the
targets undisturbed: nothing is frozen or traced, and no data is consumed.

Options:
  -t, --tree            also inspect every descendant of each PID
  --data                preview the first bytes pending in each pipe (copied, not read)
  --json                machine-readable output (stable shape, see docs/cli.md)
  --graph [dot|svg]     a Graphviz graph of processes, descriptors, files and links;
                        svg needs the dot program (apt-get install graphviz)
  -q, --quiet           the descriptor tables only
  --verbose             plugin details and facts that could not be read

Columns: PENDING is bytes in the pipe (seen from either end) or IN/OUT for a socket;
CAP is the pipe capacity; FILE numbers open file descriptions, xN when N descriptors
(in any of the processes shown) share one.

Examples:
  fdcr inspect 1234
  fdcr inspect --tree 1234 --data
  fdcr inspect 1234 5678 --json | jq '.processes[].fds[] | select(.type == "pipe")'
  fdcr inspect 1234 --graph svg > fds.svg
`;

const PREVIEW_BYTES = 32;

/** `fdcr inspect`: a live, read-only view of processes' descriptors. */
export async function inspectCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('inspect', normaliseGraphArg(args), {
    tree: { type: 'boolean', short: 't' },
    data: { type: 'boolean' },
    json: { type: 'boolean' },
    graph: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }

  const graph = graphFormat(values.graph);
  if (positionals.length === 0) throw new CliUsageError('give at least one pid', 'see `fdcr inspect --help`');
  if (graph !== undefined && values.json) throw new CliUsageError('--json and --graph cannot be combined', 'choose one output format');

  const roots = positionals.map((p) => parsePid(p));
  const pids = resolveTargets(values.tree ? { trees: roots } : { pids: roots });
  const view = inspectProcesses(cliContainer(), pids, { previewBytes: values.data ? PREVIEW_BYTES : 0 });
  const { json, quiet, verbose } = values;
  process.stdout.write(render(view, { graph, json, quiet, verbose }));
  return 0;
}

function render(view: LiveView, options: { graph?: 'dot' | 'svg'; json?: boolean; quiet?: boolean; verbose?: boolean }): string {
  if (options.graph !== undefined) {
    const dot = toDot(liveGraph(view));
    return options.graph === 'svg' ? renderSvg(dot) : dot;
  }
  if (options.json === true) return `${JSON.stringify(liveViewJson(view, CLI_VERSION), null, 2)}\n`;

  const paint = painter(process.stdout);
  const sharers = sharerCounts(view);
  const parts = view.processes.map((p) => renderLiveProcess(p, sharers, paint, options));
  if (options.verbose === true) {
    parts.push(`peer search scanned ${view.scanned.descriptors} descriptors of ${view.scanned.processes} processes\n`);
  }
  return parts.join('\n');
}
