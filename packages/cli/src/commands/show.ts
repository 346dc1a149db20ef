import { EXTERNAL_PLUGIN, ImageReader, linux, resolvePlugins, type EntityRecord } from '@fdcr/core';
import { parse } from '../args.js';
import { CliUsageError } from '../output/errors.js';
import { humanBytes, printable, table } from '../output/format.js';
import { cliContainer } from '../plugins.js';
import { graphFormat, normaliseGraphArg, renderSvg, toDot } from '../output/graph.js';
import { imageGraph } from '../output/image-graph.js';

const HELP = `Usage: fdcr show FILE [--json | --graph [dot|svg]]

Prints what an image holds: its header, processes, descriptors and open files (entities),
with pending data as a size and a short preview. The image is fully validated first.

Options:
  --json              machine-readable output (stable shape, see docs/cli.md)
  --graph [dot|svg]   a Graphviz graph: processes, descriptors, entities, and pipes and
                      socketpairs as edges labelled with their pending bytes; svg needs
                      the dot program (apt-get install graphviz)
  -q, --quiet         the tables only, without the header lines

Examples:
  fdcr show app.fdcr
  fdcr show app.fdcr --json | jq '.descriptors[] | select(.fd == 0)'
  fdcr show app.fdcr --graph | dot -Tpng > app.png
`;

const PREVIEW_BYTES = 32;

/** Turns record state into JSON-safe values: byte strings become printable text. */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return printable(value, 4096);
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

function accessMode(flags: number): string {
  const mode = flags & linux.O_ACCMODE;
  return mode === linux.O_RDONLY ? 'r' : mode === linux.O_WRONLY ? 'w' : 'rw';
}

/** The stream ids an entity's (or its object's) state refers to. */
function streamsOf(state: Record<string, unknown> | undefined): number[] {
  return Object.entries(state ?? {})
    .filter(([key, value]) => /^(stream|stream[A-Z].*|.*Stream)$/.test(key) && typeof value === 'number')
    .map(([, value]) => value as number);
}

/** Builds the JSON view of an image. */
export function imageView(
  reader: ImageReader,
  describe: (e: EntityRecord) => string,
): Record<string, unknown> {
  const { contents } = reader;
  const data = reader.streams().map((stream) => {
    const first = reader.data(stream).next();
    const preview = first.done === true ? '' : printable(first.value.data, PREVIEW_BYTES);
    return { stream, ...reader.streamSize(stream), preview };
  });
  return {
    image: { path: reader.name, bytes: reader.size },
    header: contents.header,
    processes: contents.processes.map((p) => jsonSafe(p)),
    descriptors: contents.descriptors,
    entities: contents.entities.map((e) => ({ ...(jsonSafe(e) as object), description: describe(e) })),
    objects: contents.objects.map((o) => jsonSafe(o)),
    data,
  };
}

/** `fdcr show`: print what an image holds. */
export async function showCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse('show', normaliseGraphArg(args), {
    json: { type: 'boolean' },
    graph: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new CliUsageError('give exactly one image file', 'see `fdcr show --help`');
  const graph = graphFormat(values.graph);
  if (graph !== undefined && values.json) throw new CliUsageError('--json and --graph cannot be combined', 'choose one output format');
  const reader = ImageReader.open(positionals[0] as string);
  try {
    const plugins = new Map(resolvePlugins(cliContainer()).map((p) => [p.meta.name, p]));
    const objects = new Map(reader.contents.objects.map((o) => [o.id, o]));
    const describe = (e: EntityRecord): string => {
      if (e.plugin === EXTERNAL_PLUGIN) return `external (${e.kind}): ${printable(e.state.link as Uint8Array, 200)}`;
      const plugin = plugins.get(e.plugin);
      const object = e.object === undefined ? undefined : objects.get(e.object);
      return plugin?.describe?.(e, object) ?? `${e.plugin} ${e.kind}`;
    };
    if (graph !== undefined) {
      const dot = toDot(
        imageGraph({
          name: reader.name,
          contents: reader.contents,
          describe,
          pendingOf: (r) => pendingOf(reader, r),
        }),
      );
      process.stdout.write(graph === 'svg' ? renderSvg(dot) : dot);
      return 0;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(imageView(reader, describe), null, 2)}\n`);
      return 0;
    }
    process.stdout.write(renderText(reader, describe, values.quiet === true));
    return 0;
  } finally {
    reader.close();
  }
}

/** Bytes saved in the data streams a record refers to. */
function pendingOf(reader: ImageReader, record: { state: Record<string, unknown> }): number {
  return streamsOf(record.state).reduce((n, s) => n + reader.streamSize(s).bytes, 0);
}

function renderText(reader: ImageReader, describe: (e: EntityRecord) => string, quiet: boolean): string {
  const { header, processes, descriptors, entities, objects } = reader.contents;
  const byId = new Map(entities.map((e) => [e.id, e]));
  const objectById = new Map(objects.map((o) => [o.id, o]));
  const sharers = new Map<number, number>();
  for (const d of descriptors) sharers.set(d.entity, (sharers.get(d.entity) ?? 0) + 1);
  const out: string[] = [];
  if (!quiet) {
    out.push(`image ${reader.name}: ${humanBytes(reader.size)}, format ${header.format}.${header.minor}, fdcr ${header.fdcr}\n`);
    out.push(`written ${header.time} on ${header.host} (Linux ${header.kernel}, ${header.arch})\n`);
    out.push(`plugins: ${Object.entries(header.plugins).map(([n, s]) => `${n} ${s.version}`).join(', ') || 'none'}\n\n`);
  }
  out.push(table(['PID', 'PPID', 'COMMAND', 'CWD'], processes.map((p) => [
    String(p.pid), String(p.ppid), printable(Buffer.concat(p.argv.flatMap((a, i) => (i === 0 ? [a] : [Buffer.from(' '), a]))), 48), printable(p.cwd, 40),
  ])));
  out.push('\n');
  // Records are stored by open file; people read them by process, then descriptor number.
  const order = new Map(processes.map((p, i) => [p.pid, i]));
  const sorted = [...descriptors].sort((a, b) => (order.get(a.pid)! - order.get(b.pid)!) || a.fd - b.fd);
  out.push(table(['PID', 'FD', 'MODE', 'CLOEXEC', 'FILE', 'SHARED', 'WHAT'], sorted.map((d) => {
    const e = byId.get(d.entity) as EntityRecord;
    return [String(d.pid), String(d.fd), accessMode(e.flags), d.cloexec ? 'yes' : 'no', `#${e.id}`, (sharers.get(e.id) ?? 0) > 1 ? `x${sharers.get(e.id)}` : '', describe(e)];
  })));
  const owners = new Map<number, { plugin: string; kind: string }>();
  for (const record of [...objectById.values(), ...entities]) {
    for (const stream of streamsOf(record.state)) if (!owners.has(stream)) owners.set(stream, record);
  }
  const dataRows = reader.streams().map((stream) => {
    const first = reader.data(stream).next();
    const owner = owners.get(stream);
    return [String(stream), owner === undefined ? '?' : `${owner.plugin} ${owner.kind}`, humanBytes(reader.streamSize(stream).bytes), first.done === true ? '' : printable(first.value.data, PREVIEW_BYTES)];
  });
  if (dataRows.length > 0) out.push(`\n${table(['STREAM', 'OF', 'BYTES', 'PREVIEW'], dataRows)}`);
  return out.join('');
}
