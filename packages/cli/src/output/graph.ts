import { spawnSync } from 'node:child_process';
import { CliError, CliUsageError } from './errors.js';

/** A descriptor (or any node) drawn inside a process box. */
export interface GraphNode {
  id: string;
  label: string;
}

/** A process box; `external` marks one that was not named but holds another end. */
export interface GraphProcess {
  id: string;
  label: string;
  external: boolean;
  nodes: GraphNode[];
}

/** An edge: `holds` from a descriptor to its open file, `link` for a pipe or socket. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: 'holds' | 'link';
  /** Draw an arrow (pipe data flows from writer to reader) or a line (sockets). */
  directed: boolean;
  label?: string;
}

/** What the DOT output draws: processes with their descriptors, open files, and links. */
export interface GraphModel {
  title: string;
  processes: GraphProcess[];
  files: GraphNode[];
  edges: GraphEdge[];
}

/** A DOT string literal. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function processLines(proc: GraphProcess, index: number): string[] {
  const style = proc.external ? 'dashed' : 'rounded';
  return [
    `  subgraph cluster_${index} {`,
    `    label=${dotString(proc.label)}; style=${style};`,
    ...proc.nodes.map((n) => `    ${dotString(n.id)} [label=${dotString(n.label)}, shape=box];`),
    '  }',
  ];
}

function edgeLine(edge: GraphEdge): string {
  const attrs =
    edge.kind === 'holds'
      ? ['style=dotted', 'arrowhead=none']
      : ['penwidth=2', 'color="#1f6feb"', edge.directed ? 'dir=forward' : 'dir=both'];
  if (edge.label !== undefined) attrs.push(`label=${dotString(edge.label)}`);
  return `  ${dotString(edge.from)} -> ${dotString(edge.to)} [${attrs.join(', ')}];`;
}

/** Renders a graph model as Graphviz DOT. */
export function toDot(model: GraphModel): string {
  const lines = [
    'digraph fdcr {',
    `  label=${dotString(model.title)}; labelloc=t; rankdir=LR;`,
    '  node [fontname="Helvetica", fontsize=10]; edge [fontname="Helvetica", fontsize=9];',
    ...model.processes.flatMap(processLines),
    ...model.files.map((f) => `  ${dotString(f.id)} [label=${dotString(f.label)}, shape=ellipse];`),
    ...model.edges.map(edgeLine),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

const INSTALL_HINT = 'install Graphviz (`apt-get install graphviz`), or use `--graph dot` and render the DOT text elsewhere';

/** Renders DOT text to SVG with the Graphviz `dot` program. */
export function renderSvg(dot: string, program = 'dot'): string {
  const run = spawnSync(program, ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new CliError('FDCR_E_CLI_GRAPHVIZ', `cannot render SVG: the Graphviz program '${program}' is not installed`, INSTALL_HINT);
  }
  if (run.error !== undefined || run.status !== 0) {
    const why = run.error?.message ?? run.stderr.trim();
    throw new CliError('FDCR_E_CLI_GRAPHVIZ', `cannot render SVG: ${program} failed: ${why}`, 'run with `--graph dot` to see the DOT text');
  }
  return run.stdout;
}

/** `--graph` takes an optional value: turns a bare `--graph` into `--graph=dot` for parseArgs. */
export function normaliseGraphArg(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    if (arg !== '--graph') return arg;

    const next = args[i + 1];
    return next === 'dot' || next === 'svg' ? arg : '--graph=dot';
  });
}

/** The output format asked for with `--graph`, checked. */
export function graphFormat(value: string | undefined): 'dot' | 'svg' | undefined {
  if (value === undefined || value === 'dot' || value === 'svg') return value;

  throw new CliUsageError(`invalid --graph format: '${value}'`, 'use --graph (DOT text) or --graph svg');
}
