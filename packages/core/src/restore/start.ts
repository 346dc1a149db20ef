import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { FdcrError } from '../errors/fdcr-error.js';
import { O_NONBLOCK } from '../linux/constants.js';
import { getCloexec, getStatusFlags, raiseNofileLimit, setCloexec, setStatusFlags } from '../linux/syscalls.js';
import {
  EXTERNAL_PLUGIN,
  type DescriptorRecord,
  type EntityRecord,
  type ImageContents,
  type ProcessRecord,
} from '../model/records.js';
import {
  applyCloexecInChildren,
  canApplyCloexecAtStart,
  type CloexecTarget,
  findProgram,
  isElfProgram,
  stopBeforeExec,
} from './cloexec-at-start.js';
import type { RecreatedFiles } from './recreate.js';

/** What to run in place of an original process. */
export type ProcessCommand =
  | { argv: readonly string[]; cwd?: string }
  | { shell: string; cwd?: string };

/** A restored process that is running. */
export interface StartedProcess {
  /** The pid it had when it was checkpointed. */
  originalPid: number;
  child: ChildProcess;
}

/** The image's entities by id and descriptors by process, built once for all processes. */
interface ImageIndex {
  entities: ReadonlyMap<number, EntityRecord>;
  descriptorsOf: ReadonlyMap<number, DescriptorRecord[]>;
}

function indexImage(contents: ImageContents): ImageIndex {
  const descriptorsOf = new Map<number, DescriptorRecord[]>();
  for (const d of contents.descriptors) {
    const list = descriptorsOf.get(d.pid);
    if (list === undefined) descriptorsOf.set(d.pid, [d]);
    else list.push(d);
  }
  return { entities: new Map(contents.entities.map((e) => [e.id, e])), descriptorsOf };
}

/**
 * The stdio array that hands a child exactly its recorded descriptors at their recorded
 * numbers: an entity's fd where it had one, fdcr's own fd for an external descriptor on 0-2,
 * and nothing anywhere else (numbers 0-2 without a record get /dev/null).
 */
function stdioFor(
  pid: number,
  mine: readonly DescriptorRecord[],
  image: ImageIndex,
  files: RecreatedFiles,
): StdioOptions {
  const top = mine.reduce((max, d) => Math.max(max, d.fd), 2);
  const stdio: Array<'ignore' | 'inherit' | number> = new Array(top + 1).fill('ignore');
  for (const d of mine) {
    const entity = image.entities.get(d.entity);
    if (entity?.plugin === EXTERNAL_PLUGIN) {
      // External descriptors are the caller's: 0-2 are inherited from fdcr, others stay closed.
      if (d.fd <= 2) stdio[d.fd] = 'inherit';
      continue;
    }
    const fd = files.fds.get(d.entity);
    if (fd === undefined) {
      throw new FdcrError('FDCR_E_INTERNAL', `no restored fd for entity ${d.entity} of process ${pid}`);
    }
    stdio[d.fd] = fd;
  }
  return stdio;
}

function recordedCommand(record: ProcessRecord): ProcessCommand {
  const argv = record.argv.map((a) => Buffer.from(a).toString('utf8'));
  return { argv, cwd: Buffer.from(record.cwd).toString('utf8') };
}

/**
 * The descriptor numbers `pid` had with FD_CLOEXEC among those its stdio hands it. Exec
 * clears the flag on all of them (libuv makes the stdio fds inheritable, and a close-on-exec
 * descriptor would not survive the exec at all), so these are set again after it.
 */
function cloexecFds(mine: readonly DescriptorRecord[], stdio: StdioOptions): number[] {
  const given = stdio as ReadonlyArray<unknown>;
  return mine
    .filter((d) => d.cloexec && given[d.fd] !== 'ignore')
    .map((d) => d.fd)
    .sort((a, b) => a - b);
}

function noProgram(record: ProcessRecord, file: string): FdcrError {
  return new FdcrError('FDCR_E_RESTORE_SPAWN', `cannot start ${file} for process ${record.pid}`, {
    pid: record.pid,
    hint: 'check that the command exists and the working directory is accessible',
  });
}

/** The program file and arguments of a command. */
function programOf(record: ProcessRecord, command: ProcessCommand): [string, string[]] {
  const file = 'shell' in command ? '/bin/sh' : command.argv[0];
  const args = 'shell' in command ? ['-c', command.shell] : command.argv.slice(1);
  if (file === undefined || file === '') {
    throw new FdcrError('FDCR_E_RESTORE_SPAWN', `process ${record.pid} has no command to run`, { pid: record.pid });
  }
  return [file, args];
}

/**
 * Whether a process gets its close-on-exec flags through the stop-before-exec wrapper: only
 * when it had any, and only for a command whose program is a binary exec starts directly.
 */
function wrapsForCloexec(
  record: ProcessRecord,
  command: ProcessCommand,
  cloexec: readonly number[],
): boolean {
  if (cloexec.length === 0 || !canApplyCloexecAtStart()) return false;

  // Limitation: a shell command (`--exec`) gets every descriptor without FD_CLOEXEC: its
  // shell must keep them open to hand them on to the program it runs.
  if ('shell' in command) return false;

  const [file] = programOf(record, command);
  const path = findProgram(file, command.cwd);
  if (path === undefined) throw noProgram(record, file);

  // Limitation: a script (a version-manager shim, a launcher) gets every descriptor without
  // FD_CLOEXEC, as the program it may exec needs them open; a binary launcher (env, nice)
  // gets the flags itself, and its exec then closes those descriptors.
  return isElfProgram(path);
}

/**
 * Spawns the command of one process. With `wrapped`, the program is started through the
 * stop-before-exec shell, so that its close-on-exec flags can be set before it runs.
 */
function spawnOne(
  record: ProcessRecord,
  command: ProcessCommand,
  stdio: StdioOptions,
  wrapped: boolean,
): ChildProcess {
  const [file, args] = programOf(record, command);
  // libuv moves descriptors out of the way while it arranges them: allow twice the count.
  raiseNofileLimit(2 * (stdio as unknown[]).length + 64);
  const [run, runArgs] = wrapped ? stopBeforeExec(file, args) : [file, args];
  const child = spawn(run, runArgs, { cwd: command.cwd, stdio });
  // A failed spawn also emits 'error' on the next tick; unheard, it would crash the process.
  child.once('error', () => undefined);
  if (child.pid === undefined) throw noProgram(record, file);
  return child;
}

/**
 * Checks that every process's program and working directory exist before the first one is
 * started: once a restored process runs it may read and write its files, so a failure found
 * only at the second spawn would leave effects behind.
 */
function preflight(plans: ReadonlyArray<{ record: ProcessRecord; command: ProcessCommand }>): void {
  for (const { record, command } of plans) {
    const [file] = programOf(record, command);
    if (command.cwd !== undefined && !isDirectory(command.cwd)) {
      throw new FdcrError('FDCR_E_RESTORE_SPAWN', `cannot start process ${record.pid}: no directory ${command.cwd}`, {
        pid: record.pid,
        path: command.cwd,
        hint: 'create the directory, or give a command with --exec that runs elsewhere',
      });
    }
    if (findProgram(file, command.cwd) === undefined) throw noProgram(record, file);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Marks close-on-exec, for the duration of the spawns, every descriptor above 2 that fdcr
 * holds without it. libuv's spawn leaves such descriptors open in the child, so one that
 * fdcr inherited (or its embedder opened) would reach every restored process, at its number
 * or in a gap. Returns the function that puts the flags back.
 */
function hideOwnDescriptors(): () => void {
  const marked: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd <= 2) continue;

    try {
      if (getCloexec(fd)) continue;
      setCloexec(fd, true);
      marked.push(fd);
    } catch {
      // The descriptor of the /proc listing itself, already closed.
    }
  }
  return () => {
    for (const fd of marked) setCloexec(fd, false);
  };
}

/**
 * Puts O_NONBLOCK back on the restored files at descriptors 0-2 of `pid`. libuv's spawn makes
 * a child's 0-2 blocking, which clears the flag on the open file description itself; fdcr's
 * copy shares that description, and spawn returns only once the child has exec'd.
 */
function reapplyNonblock(
  mine: readonly DescriptorRecord[],
  image: ImageIndex,
  files: RecreatedFiles,
): void {
  // Limitation: a restored program that reads the flags of its 0-2 in its very first
  // instructions, before spawn has returned here, can still find them blocking.
  for (const d of mine) {
    const fd = files.fds.get(d.entity);
    const flags = image.entities.get(d.entity)?.flags ?? 0;
    if (d.fd > 2 || fd === undefined || (flags & O_NONBLOCK) === 0) continue;

    setStatusFlags(fd, getStatusFlags(fd) | O_NONBLOCK);
  }
}

/**
 * Starts one process per process record, each with exactly its descriptors. If one cannot be
 * started, those already started are killed. fdcr's copies are closed by the caller.
 */
export function startProcesses(
  contents: ImageContents,
  files: RecreatedFiles,
  commands: ReadonlyMap<number, ProcessCommand>,
): StartedProcess[] {
  const plans = contents.processes.map((record) => ({
    record,
    command: commands.get(record.pid) ?? recordedCommand(record),
  }));
  preflight(plans);
  const image = indexImage(contents);
  const started: StartedProcess[] = [];
  const traced: CloexecTarget[] = [];
  const unhide = hideOwnDescriptors();
  try {
    for (const { record, command } of plans) {
      const mine = image.descriptorsOf.get(record.pid) ?? [];
      const stdio = stdioFor(record.pid, mine, image, files);
      const cloexec = cloexecFds(mine, stdio);
      const wrapped = wrapsForCloexec(record, command, cloexec);
      const child = spawnOne(record, command, stdio, wrapped);
      started.push({ originalPid: record.pid, child });
      // Before the tracer releases the wrapper, so the program finds O_NONBLOCK from its start.
      reapplyNonblock(mine, image, files);
      if (wrapped) traced.push({ originalPid: record.pid, pid: child.pid ?? 0, fds: cloexec });
    }
    // The wrappers wait, stopped, until the one tracer for them all has set their flags.
    if (traced.length > 0) applyCloexecInChildren(traced);
  } catch (error) {
    for (const s of started) s.child.kill('SIGKILL');
    throw error;
  } finally {
    unhide();
  }
  return started;
}

/** Exit status of a finished child as a shell would report it (128+n for signal n). */
export function waitForExit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      resolve(code ?? 128 + (signal === null ? 0 : signalNumber(signal)));
    };
    if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
    else child.once('exit', done);
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}
