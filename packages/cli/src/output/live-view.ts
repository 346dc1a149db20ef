import type { LiveFd, LiveProcess, LiveView } from '@fdcr/core';
import { printable, table } from './format.js';
import type { GraphEdge, GraphModel, GraphProcess } from './graph.js';
import type { Painter } from './style.js';

/** The JSON shape of one descriptor in `fdcr inspect --json` (documented in docs/cli.md). */
export function liveFdJson(fd: LiveFd): Record<string, unknown> {
  return {
    fd: fd.fd,
    type: fd.type,
    kind: fd.kind ?? null,
    target: fd.target,
    inode: fd.inode,
    access: fd.access,
    flags: fd.flags,
    statusFlags: fd.statusFlags,
    offset: fd.offset,
    cloexec: fd.cloexec,
    file: fd.file,
    handler: fd.handler,
    pendingIn: fd.pendingIn ?? null,
    pendingOut: fd.pendingOut ?? null,
    capacity: fd.capacity ?? null,
    peerInode: fd.peerInode ?? null,
    peers: fd.peers,
    preview: fd.preview === undefined ? null : printable(fd.preview, fd.preview.length),
    details: fd.details ?? {},
    unavailable: fd.unavailable ?? [],
  };
}

/** The JSON document of `fdcr inspect --json`. */
export function liveViewJson(view: LiveView, version: string): Record<string, unknown> {
  return {
    fdcr: version,
    kind: 'inspect',
    processes: view.processes.map((p) => ({ ...p, fds: p.fds.map(liveFdJson) })),
    shared: view.shared,
    scanned: view.scanned,
  };
}

/** Sizes for narrow columns: `512`, `64K`, `1.5M`. */
export function compactBytes(bytes: number): string {
  if (bytes < 1024) return String(bytes);
  const units = ['K', 'M', 'G', 'T'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${units[unit]}`;
}

/** Pending bytes: one count for a pipe end, `in/out` for a socket. */
function pendingCell(fd: LiveFd): string {
  if (fd.pendingIn !== undefined && fd.pendingOut !== undefined) {
    return `${compactBytes(fd.pendingIn)}/${compactBytes(fd.pendingOut)}`;
  }
  const one = fd.pendingIn ?? fd.pendingOut;
  return one === undefined ? '' : compactBytes(one);
}

function fdRow(fd: LiveFd, sharers: ReadonlyMap<number, number>): string[] {
  const count = sharers.get(fd.file) ?? 1;
  const seekable = fd.type === 'file' || fd.type === 'dir' || fd.type === 'blk';
  return [
    String(fd.fd),
    fd.kind ?? fd.type,
    fd.access,
    fd.statusFlags.map((f) => f.slice(2)).join(',') || '-',
    seekable ? String(fd.offset) : '-',
    fd.cloexec ? 'yes' : 'no',
    count > 1 ? `#${fd.file} x${count}` : `#${fd.file}`,
    pendingCell(fd),
    fd.capacity === undefined ? '' : compactBytes(fd.capacity),
    fd.target,
  ];
}

const HEADERS = ['FD', 'TYPE', 'MODE', 'FLAGS', 'OFFSET', 'CLOEXEC', 'FILE', 'PENDING', 'CAP', 'TARGET'];

/** Which descriptors `fdcr dump` would not recreate, so the table need not say it per row. */
function handlerLines(proc: LiveProcess): string[] {
  const lines: string[] = [];
  const terminals = proc.fds.filter((fd) => fd.handler === 'external:terminal').map((fd) => fd.fd);
  const unsupported = proc.fds.filter((fd) => fd.handler === 'unsupported').map((fd) => fd.fd);
  if (terminals.length > 0) lines.push(`terminals (given by the caller at restore): fd ${terminals.join(', ')}`);
  if (unsupported.length > 0) lines.push(`no plugin handles (dump needs --skip-unsupported): fd ${unsupported.join(', ')}`);
  return lines;
}

function endName(access: string): string {
  return access === 'r' ? 'reads' : access === 'w' ? 'writes' : access === 'rw' ? 'reads+writes' : 'holds';
}

/** `fd 4 pipe:[123]: 812 python3 fd 3 reads; ...`, the other holders of each pipe or socket. */
function peerLines(proc: LiveProcess): string[] {
  return proc.fds
    .filter((fd) => fd.peers.length > 0)
    .map((fd) => {
      const who = fd.peers.map((p) => `${p.pid} ${p.comm} fd ${p.fd} ${endName(p.access)}`);
      return wrap(`  fd ${fd.fd} ${fd.target}: `, who, '      ');
    });
}

/** Joins items with `; ` after `head`, continuing on indented lines to stay within 100 columns. */
export function wrap(head: string, items: readonly string[], indent: string, width = 100): string {
  const lines = [head];
  for (const [i, item] of items.entries()) {
    const piece = i < items.length - 1 ? `${item};` : item;
    const last = lines.length - 1;
    const sep = lines[last]!.endsWith(' ') ? '' : ' ';
    const overflows = lines[last]!.length + sep.length + piece.length > width;
    if (overflows && lines[last]!.trim() !== head.trim()) lines.push(indent + piece);
    else lines[last] += sep + piece;
  }
  return lines.join('\n');
}

function previewLines(proc: LiveProcess): string[] {
  return proc.fds
    .filter((fd) => fd.preview !== undefined)
    .map((fd) => `  fd ${fd.fd} ${fd.target}: "${printable(fd.preview!, fd.preview!.length)}"`);
}

/** Renders one process of a live view as a header, a descriptor table, peers and previews. */
export function renderLiveProcess(
  proc: LiveProcess,
  sharers: ReadonlyMap<number, number>,
  paint: Painter,
  options: { quiet?: boolean; verbose?: boolean },
): string {
  const out: string[] = [];
  if (options.quiet !== true) {
    const head = `process ${proc.pid} (${proc.comm}), parent ${proc.ppid}, state ${proc.state}: `;
    const full = printable(Buffer.from(proc.argv.join(' ')), 4096);
    const room = Math.max(20, 100 - head.length);
    const command = full.length > room ? `${full.slice(0, room - 3)}...` : full;
    out.push(paint.bold(head + command));
  }
  out.push(table(HEADERS, proc.fds.map((fd) => fdRow(fd, sharers)), paint.bold).trimEnd());
  const peers = peerLines(proc);
  if (peers.length > 0 && options.quiet !== true) out.push('other holders:', ...peers);
  if (options.quiet !== true) out.push(...handlerLines(proc));
  const previews = previewLines(proc);
  if (previews.length > 0) out.push('pending data:', ...previews);
  if (options.verbose === true) out.push(...verboseLines(proc));
  return `${out.join('\n')}\n`;
}

function verboseLines(proc: LiveProcess): string[] {
  return proc.fds.flatMap((fd) => {
    const details = Object.entries(fd.details ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const lines = details.length > 0 ? [`  fd ${fd.fd} details: ${details.join(' ')}`] : [];
    return [...lines, ...(fd.unavailable ?? []).map((u) => `  fd ${fd.fd} unavailable: ${u}`)];
  });
}

/** How many descriptors share each open file description. */
export function sharerCounts(view: LiveView): Map<number, number> {
  return new Map(view.shared.map((s) => [s.file, s.holders.length]));
}
