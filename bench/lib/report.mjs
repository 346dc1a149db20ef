// Small helpers to summarise benchmark runs and print the results table.

/** Median of a list of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** `a / b` as "2.31x". */
export function ratio(a, b) {
  return `${(a / b).toFixed(2)}x`;
}

const f0 = (n) => n.toFixed(0);
const f1 = (n) => n.toFixed(1);

const COLUMNS = [
  ['workload', (r) => r.label],
  ['fds', (r) => String(r.fds)],
  ['data MB', (r) => f1(r.dataBytes / 1e6)],
  ['dump ms', (r) => f0(r.dumpMs)],
  ['dump wall', (r) => f0(r.dumpWallMs)],
  ['frozen', (r) => f0(r.frozenMs)],
  ['restore wall', (r) => f0(r.restoreWallMs)],
  ['us/fd', (r) => f1(r.dumpUsPerFd)],
  ['floor us/fd', (r) => f1(r.floorUsPerFd)],
  ['vs floor', (r) => ratio(r.dumpMs, r.floorMs)],
  ['MB/s', (r) => (r.dataBytes ? f0(r.dumpMBps) : '-')],
  ['floor MB/s', (r) => (r.dataBytes ? f0(r.floorMBps) : '-')],
  ['RSS dump', (r) => f0(r.dumpRssMiB)],
  ['RSS rest', (r) => f0(r.restoreRssMiB)],
  ['B/descr', (r) => f1(r.image.perDescriptor)],
  ['B/entity', (r) => f1(r.image.perEntity)],
  ['B/fd over data', (r) => f1((r.imageBytes - r.dataBytes) / r.fds)],
];

function grid(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

/** The report as text: machine, per-workload figures (medians), and the targets. */
export function table({ machine, kinds, baseline, version, results, targets, failures }) {
  const lines = [
    `machine: ${machine.nproc} x ${machine.cpu}, Linux ${machine.kernel}, node ${machine.node}; images in ${machine.images}`,
    `fd kinds with plugins: ${kinds.join(', ')} (p=pipe, s=socketpair, f=regular file)`,
    `times in ms, medians of ${results[0]?.runs ?? 0} runs (w4: fewer); "dump ms" is fdcr's in-process checkpoint time, RSS in MiB`,
    '',
    grid([COLUMNS.map((c) => c[0]), ...results.map((r) => COLUMNS.map((c) => c[1](r)))]),
    '',
    `empty dump wall ${f0(baseline.dumpWallMs)} ms, empty restore wall ${f0(baseline.restoreWallMs)} ms; fdcr --version median ${f0(version.medianMs)} ms (min ${f0(version.minMs)})`,
    '',
    ...failures.map((f) => `FAILED ${f.name} (${f.label}): ${f.error}`),
    grid([['target', 'value', 'limit', 'met'], ...targets.map((t) => [t.what, String(t.value), t.limit, t.met ? 'yes' : 'NO'])]),
    '',
  ];
  return lines.join('\n');
}
