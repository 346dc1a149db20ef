import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach } from 'vitest';

/** Absolute path of the built CLI entry point. */
export const CLI = resolve(import.meta.dirname, '../../packages/cli/dist/bin.js');

/** A scratch directory for one test, removed by `cleanup()`. */
export interface Workspace {
  dir: string;
  path(name: string): string;
  cleanup(): void;
}

/** A live target process started for a scenario; not a child of the test process. */
export interface Target {
  pid: number;
  kill(): void;
}

const started = new Set<number>();

/** Creates a scratch directory. */
export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'fdcr-test-'));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Gives each test of the calling file a fresh workspace, and after each test kills the
 * targets it started and removes the workspace. Call at the top level of a test file; the
 * returned getter yields the current test's workspace.
 */
export function useWorkspace(): () => Workspace {
  let current: Workspace | undefined;
  beforeEach(() => {
    current = workspace();
  });
  afterEach(() => {
    killTargets();
    current?.cleanup();
  });
  return () => {
    if (current === undefined) throw new Error('useWorkspace: no workspace outside a test');
    return current;
  };
}

/**
 * Python prelude for target and verifier scripts: `ready()` tells the harness the target
 * is set up; `report(obj)` writes a JSON result where the test reads it (FDCR_TEST_OUT).
 */
const PRELUDE = `
import os, sys, json, time, fcntl, socket, struct, errno
def ready():
    with open(os.environ['FDCR_READY'], 'w') as f: f.write('1')
def report(obj):
    with open(os.environ['FDCR_TEST_OUT'], 'w') as f: json.dump(obj, f)
def fds():
    # listdir opens a descriptor of its own while it reads; keep only those still open.
    def is_open(fd):
        try:
            fcntl.fcntl(fd, fcntl.F_GETFD)
            return True
        except OSError:
            return False
    return sorted(n for n in (int(x) for x in os.listdir('/proc/self/fd')) if is_open(n))
def hold():
    while True: time.sleep(3600)
`;

/**
 * Closes what a target inherited from the test runner. Only in a target started by
 * `startTarget`: the same script re-run as a restored process must keep what fdcr gave it.
 */
const CLOSE_INHERITED = `if os.environ.pop('FDCR_TEST_TARGET', None) == '1': os.closerange(3, 1 << 20)`;

/** The full source of a scenario script: the prelude, then `body`. */
export function script(body: string): string {
  return `${PRELUDE}\n${body}\n`;
}

/**
 * Starts `python3 -c <prelude + body>` detached through a shell (so the target is not our
 * child, as with a real user's process) and waits until the script calls `ready()`.
 * Standard input is /dev/null and output goes to `<dir>/target.log`. The target leads a
 * session of its own, so that `kill` also ends the processes it forks, and it first closes
 * whatever descriptors above 2 it inherited from the test runner, so that its descriptor
 * table is exactly what `body` sets up.
 */
export async function startTarget(ws: Workspace, body: string, name = 'target'): Promise<Target> {
  const ready = ws.path(`${name}.ready`);
  const env = {
    ...process.env,
    FDCR_READY: ready,
    FDCR_TEST_OUT: ws.path(`${name}.out`),
    FDCR_TEST_TARGET: '1',
  };
  const log = ws.path(`${name}.log`);
  const shell = spawn('sh', ['-c', `setsid python3 -c "$1" </dev/null >>"$2" 2>&1 & echo $!`, 'sh', script(`${CLOSE_INHERITED}\n${body}`), log], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  for await (const chunk of shell.stdout) out += chunk;
  const pid = Number(out.trim());
  started.add(pid);
  const deadline = Date.now() + 15_000;
  while (!existsSync(ready)) {
    if (Date.now() > deadline || !isAlive(pid)) {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      throw new Error(`target ${name} did not become ready:\n${text}`);
    }
    await sleep(10);
  }
  return { pid, kill: () => killQuietly(pid) };
}

/** Whether a pid is alive (and not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  started.delete(pid);
}

/** Kills every target a test started; call from afterEach. */
export function killTargets(): void {
  for (const pid of [...started]) killQuietly(pid);
}

/** Result of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the fdcr CLI with `args`; never throws on a non-zero exit. */
export function fdcr(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: Buffer; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { ...process.env, NO_COLOR: '1', ...options.env },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: options.timeoutMs ?? 60_000,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Runs fdcr and fails with its stderr unless it exits 0. */
export async function fdcrOk(
  args: readonly string[],
  options: Parameters<typeof fdcr>[1] = {},
): Promise<CliResult> {
  const result = await fdcr(args, options);
  if (result.code !== 0) {
    throw new Error(`fdcr ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  return result;
}

/**
 * Restores `image` with `python3 -c <prelude + body>` as the command of its (single)
 * process and returns what the verifier `report()`ed from inside the restored process.
 */
export async function restoreAndVerify<T = Record<string, unknown>>(
  ws: Workspace,
  image: string,
  body: string,
  extraArgs: readonly string[] = [],
): Promise<T> {
  const out = ws.path(`verify-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  await fdcrOk(['restore', image, ...extraArgs, '--', 'python3', '-c', script(body)], {
    env: { FDCR_TEST_OUT: out },
  });
  return JSON.parse(readFileSync(out, 'utf8')) as T;
}

/** Reads what a target (or a restored process started with `--exec`) reported. */
export function readReport<T = Record<string, unknown>>(ws: Workspace, name = 'target'): T {
  return JSON.parse(readFileSync(ws.path(`${name}.out`), 'utf8')) as T;
}
