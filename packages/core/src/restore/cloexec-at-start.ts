import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FdcrError } from '../errors/fdcr-error.js';
import { ptraceHint } from '../linux/proc.js';

/** The tracer script, built next to this file. */
const TRACER = fileURLToPath(new URL('./cloexec-tracer.js', import.meta.url));
const TRACER_TIMEOUT_MS = 15_000;

/**
 * A shell script that stops the shell itself (a group-stop, which the parent's child reaping
 * does not report) and then execs "$0" "$@" in the same process. Only an exec can start the
 * program, and exec cannot carry a close-on-exec descriptor: the flags have to be set
 * afterwards, between the exec and the program's first instruction, by a tracer that seizes
 * the stopped shell (`applyCloexecAtExec`).
 */
const STOP_THEN_EXEC = 'kill -STOP $$; exec "$0" "$@"';

/** Whether restored processes of this architecture can get FD_CLOEXEC through the tracer. */
export function canApplyCloexecAtStart(): boolean {
  // Limitation: the tracer knows the x86_64 registers and syscall numbers only; elsewhere
  // restored processes get every descriptor without FD_CLOEXEC.
  return process.arch === 'x64';
}

/** The file and arguments that run `file args` stopped just before its exec. */
export function stopBeforeExec(file: string, args: readonly string[]): [string, string[]] {
  return ['/bin/sh', ['-c', STOP_THEN_EXEC, file, ...args]];
}

/** Whether `path` is an executable regular file. */
function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The path exec would start for `file` from `cwd`, searched like execvp does: as a path when
 * it holds a slash, otherwise along PATH. Undefined when there is no such program.
 */
export function findProgram(file: string, cwd: string | undefined): string | undefined {
  const base = cwd ?? process.cwd();
  if (file.includes('/')) {
    const path = resolve(base, file);
    return isExecutable(path) ? path : undefined;
  }
  const dirs = (process.env.PATH ?? '/bin:/usr/bin').split(':');
  return dirs.map((dir) => resolve(base, dir === '' ? '.' : dir, file)).find(isExecutable);
}

/**
 * Whether the program at `path` is an ELF binary, which exec runs itself. Anything else (a
 * `#!` script) runs in an interpreter, and scripts are how launchers such as version-manager
 * shims are written: one that execs the real program would close every descriptor marked
 * close-on-exec on the way, losing it, which is worse than a flag left clear.
 */
export function isElfProgram(path: string): boolean {
  const magic = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, magic, 0, 4, 0) === 4 && magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A started wrapper and the descriptors its program must get FD_CLOEXEC on. */
export interface CloexecTarget {
  originalPid: number;
  pid: number;
  fds: readonly number[];
}

/**
 * Runs one tracer on the stopped wrappers and waits for it: when this returns, each program
 * runs with FD_CLOEXEC on its fds and is no longer traced. The tracer is a separate process
 * because fdcr is the parent: libuv reaps its children with waitpid on SIGCHLD, which would
 * consume the ptrace-stops of a child fdcr traced itself. Throws FDCR_E_RESTORE_SPAWN; the
 * caller kills the children.
 */
export function applyCloexecInChildren(targets: readonly CloexecTarget[]): void {
  const specs = targets.map((t) => `${t.pid}=${t.fds.join(',')}`);
  // No environment: nothing the tracer does depends on it, and NODE_OPTIONS could load
  // hooks into it.
  const result = spawnSync(process.execPath, [TRACER, ...specs], {
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    env: {},
    timeout: TRACER_TIMEOUT_MS + 1000 * targets.length,
  });
  if (result.status === 0) return;

  const said = result.stderr?.trim() ?? '';
  const reason = said !== '' ? said : result.error?.message ?? `tracer ended by ${result.signal ?? 'unknown cause'}`;
  const pids = targets.map((t) => t.originalPid).join(', ');
  throw new FdcrError('FDCR_E_RESTORE_SPAWN', `cannot start processes ${pids} with their FD_CLOEXEC flags: ${reason}`, {
    pid: targets.length === 1 ? targets[0]?.originalPid : undefined,
    hint: `the tracer needs to ptrace the restored processes; ${ptraceHint()}`,
  });
}
