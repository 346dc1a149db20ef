// fdcr benchmark: real C targets, fdcr dump/restore through the CLI, a C floor for comparison.
// Usage: pnpm bench   (env: BENCH_RUNS=5, BENCH_ONLY=w1,w4, BENCH_IMAGES=/dev/shm/x)
// Prints a table and writes bench/out/results.json. See docs/performance.md.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { join, resolve } from 'node:path';
import { imageBreakdown } from './lib/image-stats.mjs';
import { median, ratio, table } from './lib/report.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench/out');
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const TARGET = join(OUT, 'target');
const FLOOR = join(OUT, 'floor');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ONLY = process.env.BENCH_ONLY?.split(',');
const TIME = '/usr/bin/time';

/** Compiles the C target and the floor into bench/out. */
function buildNative() {
  mkdirSync(OUT, { recursive: true });
  for (const [src, bin] of [['targets/target.c', TARGET], ['floor/floor.c', FLOOR]]) {
    const gcc = spawnSync('gcc', ['-O2', '-Wall', '-o', bin, join(ROOT, 'bench', src)], { stdio: 'inherit' });
    if (gcc.status !== 0) throw new Error(`gcc failed for ${src}`);
  }
}

/** Images go to tmpfs by default so the figures measure fdcr, not the disk's fsync. */
function imageDir() {
  const base = process.env.BENCH_IMAGES ?? (existsSync('/dev/shm') ? '/dev/shm' : OUT);
  return mkdtempSync(join(base, 'fdcr-bench-'));
}

const live = new Set();

/** Starts a target in its own process group and waits for its "ready PID" line. */
function startTarget(args) {
  const child = spawn(TARGET, args, { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  live.add(child.pid);
  return new Promise((done, fail) => {
    let text = '';
    child.stdout.on('data', (chunk) => {
      text += chunk;
      const m = /ready (\d+)/.exec(text);
      if (m) done({ pid: Number(m[1]), kill: () => killGroup(child.pid) });
    });
    child.on('exit', (code) => fail(new Error(`target ${args.join(' ')} exited with ${code}`)));
  });
}

function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  live.delete(pgid);
}

process.on('exit', () => [...live].forEach(killGroup));

/** A target and all its descendants (the floor takes explicit pids). */
function tree(pid) {
  const out = [pid];
  for (const tid of spawnSync('ls', [`/proc/${pid}/task`]).stdout.toString().split(/\s+/).filter(Boolean)) {
    const kids = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
    if (kids !== '') for (const k of kids.split(' ')) out.push(...tree(Number(k)));
  }
  return out;
}

/** Runs a command under /usr/bin/time; wall ms measured here, peak RSS (KiB) from time. */
function timed(cmd, args) {
  const stats = join(OUT, 'time.txt');
  const t0 = performance.now();
  const run = spawnSync(TIME, ['-f', '%M', '-o', stats, cmd, ...args], { maxBuffer: 1 << 26 });
  const wallMs = performance.now() - t0;
  if (run.status !== 0) {
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed (${run.status}): ${run.stderr}`);
  }
  const rssKiB = Number(readFileSync(stats, 'utf8').trim().split('\n').pop());
  return { wallMs, rssKiB, stdout: run.stdout.toString() };
}

function runFloor(pids) {
  const r = timed(FLOOR, pids.map(String));
  return { ...JSON.parse(r.stdout), wallMs: r.wallMs };
}

function runDump(pids, image) {
  rmSync(image, { force: true });
  const args = [CLI, 'dump', ...pids.flatMap((p) => ['--pid', String(p)]), '-o', image, '--json'];
  const r = timed(process.execPath, args);
  return { ...JSON.parse(r.stdout), wallMs: r.wallMs, rssKiB: r.rssKiB };
}

function runRestore(pids, image) {
  const cmd = pids.length === 1 ? ['--', '/bin/true'] : pids.flatMap((p) => ['--exec', `${p}=true`]);
  return timed(process.execPath, [CLI, 'restore', image, ...cmd]);
}

/** Medians of several runs of the floor, dump and restore against one live target. */
async function measure(name, targetArgs, opts = {}) {
  const runs = opts.runs ?? RUNS;
  const target = await startTarget(targetArgs);
  const pids = opts.tree ? tree(target.pid) : [target.pid];
  const image = join(IMAGES, `${name}.fdcr`);
  try {
    const floors = Array.from({ length: runs }, () => runFloor(pids));
    const dumps = Array.from({ length: runs }, () => runDump(pids, image));
    const breakdown = imageBreakdown(image);
    if (opts.killBeforeRestore) target.kill();
    const restores = Array.from({ length: runs }, () => runRestore(pids, image));
    return summarise(name, opts.label ?? name, floors, dumps, restores, breakdown);
  } finally {
    target.kill();
    rmSync(image, { force: true });
  }
}

function summarise(name, label, floors, dumps, restores, breakdown) {
  const d = dumps[0];
  const dumpMs = median(dumps.map((x) => x.durationMs));
  const floorMs = median(floors.map((x) => x.ms));
  return {
    name,
    label,
    runs: dumps.length,
    processes: d.pids.length,
    fds: d.descriptors,
    entities: d.entities,
    dataBytes: d.dataBytes,
    imageBytes: d.imageBytes,
    floorMs,
    floorFds: floors[0].fds,
    dumpMs,
    dumpWallMs: median(dumps.map((x) => x.wallMs)),
    frozenMs: median(dumps.map((x) => x.frozenMs)),
    restoreWallMs: median(restores.map((x) => x.wallMs)),
    dumpRssMiB: Math.max(...dumps.map((x) => x.rssKiB)) / 1024,
    restoreRssMiB: Math.max(...restores.map((x) => x.rssKiB)) / 1024,
    dumpUsPerFd: (dumpMs * 1000) / d.descriptors,
    floorUsPerFd: (floorMs * 1000) / floors[0].fds,
    dumpMBps: d.dataBytes / 1e3 / dumpMs,
    floorMBps: d.dataBytes / 1e3 / floorMs,
    image: breakdown,
  };
}

/** Which fd kinds beyond pipes the CLI handles now: dump a one-of-each target and see. */
async function supportedKinds() {
  const kinds = ['p'];
  for (const kind of ['s', 'f']) {
    const dir = mkdtempSync(join(IMAGES, 'probe-'));
    const target = await startTarget(['mixed', '1', kind, dir]);
    try {
      runDump([target.pid], join(dir, 'probe.fdcr'));
      kinds.push(kind);
    } catch {
      // No plugin claims this kind yet.
    } finally {
      target.kill();
    }
  }
  return kinds;
}

/** fdcr with no target at all: node start-up, module loading and spawning /bin/true. */
async function baseline() {
  const target = await startTarget(['pipes', '0', '0']);
  const image = join(IMAGES, 'empty.fdcr');
  try {
    const dumps = Array.from({ length: RUNS }, () => runDump([target.pid], image).wallMs);
    const restores = Array.from({ length: RUNS }, () => runRestore([target.pid], image).wallMs);
    return { dumpWallMs: median(dumps), restoreWallMs: median(restores) };
  } finally {
    target.kill();
  }
}

function versionMs() {
  const runs = Array.from({ length: 10 }, () => timed(process.execPath, [CLI, '--version']).wallMs);
  return { medianMs: median(runs), minMs: Math.min(...runs), runs };
}

function machine() {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    kernel: release(),
    node: process.version,
    memMiB: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]) / 1024),
    images: IMAGES,
  };
}

const IMAGES = imageDir();

async function main() {
  buildNative();
  const kinds = await supportedKinds();
  const files = mkdtempSync(join(IMAGES, 'files-'));
  const mix = kinds.join('');
  const dupKind = kinds.includes('f') ? 'f' : 'p';
  const plan = [
    ['w1', ['pipes', '1000', '4096'], { label: '1,000 pipes x 4 KiB' }],
    ['w2', ['pipes', '100', '65536'], { label: '100 pipes x 64 KiB' }],
    ['w3', ['mixed', '10000', mix, files], { label: `10,000 fds mixed (${mix})` }],
    ['w4', ['pipes', '1024', String(1 << 20)], { label: '1,024 pipes x 1 MiB', runs: Math.min(RUNS, 3), killBeforeRestore: true }],
    ['w5', ['dups', '10000', '10', dupKind, files], { label: `10,000 dups of 10 ${dupKind === 'f' ? 'files' : 'pipe ends'}` }],
    w6Plan(),
    ['s5k', ['mixed', '5000', mix, files], { label: `scaling: 5,000 fds (${mix})` }],
  ];
  const results = [];
  const failures = [];
  for (const [name, args, opts] of plan) {
    if (ONLY && !ONLY.includes(name) && !(name === 's5k' && ONLY.includes('w3'))) continue;
    process.stderr.write(`bench: ${name} ${opts.label} ...\n`);
    try {
      results.push(await measure(name, args, opts));
    } catch (error) {
      failures.push({ name, label: opts.label, error: String(error.message).split('\n')[0] });
      process.stderr.write(`bench: ${name} failed: ${error.message}\n`);
    }
  }
  const base = await baseline();
  const version = versionMs();
  const report = { machine: machine(), kinds, baseline: base, version, results, failures };
  report.targets = checkTargets(report);
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(table(report));
  rmSync(IMAGES, { recursive: true, force: true });
}

/**
 * Workload 6: 100 processes x 2,000 inherited pipe ends = 200,000 descriptors. fdcr holds one
 * duplicate per open file description (2,000 here), not one per descriptor, so this runs
 * within an RLIMIT_NOFILE far below 200,000.
 */
function w6Plan() {
  return ['w6', ['fork', '100', '1000', '1024'], { label: '100 procs share 1,000 pipes', tree: true }];
}

/** Restore per-fd cost is start-up-free: (wall - wall of an empty image) / fds, as for dump. */
function marginal(r, base) {
  return {
    dump: ((r.dumpWallMs - base.dumpWallMs) * 1000) / r.fds,
    restore: ((r.restoreWallMs - base.restoreWallMs) * 1000) / r.fds,
  };
}

function checkTargets({ results, baseline: base, version }) {
  const by = Object.fromEntries(results.map((r) => [r.name, r]));
  const checks = [];
  const add = (what, value, limit, ok) => checks.push({ what, value, limit, met: ok });
  for (const w of ['w1', 'w3']) {
    if (by[w]) add(`${w} dump per-fd vs floor`, ratio(by[w].dumpUsPerFd, by[w].floorUsPerFd), '<= 3x', by[w].dumpUsPerFd <= 3 * by[w].floorUsPerFd);
  }
  if (by.w4) {
    add('w4 pipe data MB/s (in-process dump)', by.w4.dumpMBps.toFixed(0), '>= 1000', by.w4.dumpMBps >= 1000);
    add('w4 dump peak RSS MiB', by.w4.dumpRssMiB.toFixed(0), '< 150', by.w4.dumpRssMiB < 150);
    add('w4 restore peak RSS MiB', by.w4.restoreRssMiB.toFixed(0), '< 150', by.w4.restoreRssMiB < 150);
  }
  if (by.w3 && by.s5k) {
    const x = by.w3.dumpMs / by.s5k.dumpMs;
    add('dump time 10,000 fds / 5,000 fds', x.toFixed(2), '<= 2.2', x <= 2.2);
  }
  const descr = Math.max(...results.map((r) => r.image.perDescriptor));
  const ent = Math.max(...results.map((r) => r.image.perEntity));
  add('image bytes per descriptor record (max)', descr.toFixed(1), '<= 64', descr <= 64);
  add('image bytes per entity record (max)', ent.toFixed(1), '<= 48', ent <= 48);
  add('fdcr --version median ms', version.medianMs.toFixed(0), '< 150', version.medianMs < 150);
  for (const r of results) {
    const m = marginal(r, base);
    add(`${r.name} restore per-fd vs dump per-fd (wall, start-up removed)`, ratio(m.restore, m.dump), '<= 3x', m.restore <= 3 * m.dump);
  }
  return checks;
}

await main();
