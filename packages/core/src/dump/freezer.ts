import { FdcrError, isFdcrError } from '../errors/fdcr-error.js';
import { PTRACE_DETACH, PTRACE_INTERRUPT, PTRACE_SEIZE, WALL } from '../linux/constants.js';
import { listThreads, readProcStat, readStat } from '../linux/proc.js';
import { ptrace, sleepMs, waitpid } from '../linux/syscalls.js';

const WNOHANG = 1;
const STOP_TIMEOUT_MS = 5000;

/** Processes held still for the duration of a checkpoint. `thaw` is safe to call twice. */
export interface Frozen {
  readonly pids: readonly number[];
  thaw(): void;
}

interface Hold {
  release(): void;
}

function freezeError(pid: number, reason: string, cause?: unknown): FdcrError {
  return new FdcrError('FDCR_E_DUMP_FREEZE', `cannot freeze process ${pid}: ${reason}`, {
    pid,
    cause,
    hint: 'a process that is already being traced (by a debugger or strace) cannot be checkpointed',
  });
}

/**
 * Waits until a seized thread reports a stop, without blocking forever. Returns the signal
 * to hand back at detach: the first stop may be a signal-delivery-stop for a signal that
 * raced the seize, and detaching with 0 would discard that signal. Undefined when the thread
 * exited instead (a thread may end at any time; that is not an error).
 */
function awaitTraceStop(pid: number, tid: number): number | undefined {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const [got, status] = waitpid(tid, WALL | WNOHANG);
    if (got === tid) {
      if ((status & 0xff) !== 0x7f) return undefined;

      const event = status >>> 16;
      return event === 0 ? (status >> 8) & 0xff : 0;
    }
    if (Date.now() > deadline) throw freezeError(pid, `thread ${tid} did not stop`);
    sleepMs(1);
  }
}

/**
 * Lets a seized thread go with `signal` re-delivered. A thread that died while seized (a
 * dump with `kill`) cannot be detached: its exit is reaped from the trace instead, so that
 * its real parent gets it.
 */
function letGo(tid: number, signal: number): void {
  try {
    ptrace(PTRACE_DETACH, tid, signal);
  } catch {
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    try {
      while (waitpid(tid, WALL | WNOHANG)[0] === 0 && Date.now() < deadline) sleepMs(1);
    } catch {
      // ECHILD: nothing left to reap.
    }
  }
}

/** PTRACE_SEIZE, or false when the thread is already gone. */
function trySeize(tid: number): boolean {
  try {
    ptrace(PTRACE_SEIZE, tid, 0);
    return true;
  } catch (error) {
    if (isFdcrError(error) && error.errno === 'ESRCH') return false;
    throw error;
  }
}

/**
 * Freezes a process that is not our child with PTRACE_SEIZE + PTRACE_INTERRUPT on every
 * thread: unlike SIGSTOP this is invisible to the target's parent and its syscalls restart
 * transparently after the detach.
 */
function seize(pid: number): Hold {
  const seized = new Map<number, number>();
  const release = (): void => {
    for (const [tid, signal] of seized) letGo(tid, signal);
  };
  try {
    // Threads may be created while we attach; list again until no new ones appear.
    for (let fresh = listThreads(pid); fresh.length > 0; ) {
      for (const tid of fresh) {
        if (!trySeize(tid)) continue;

        seized.set(tid, 0);
        ptrace(PTRACE_INTERRUPT, tid, 0);
        const signal = awaitTraceStop(pid, tid);
        if (signal === undefined) seized.delete(tid);
        else seized.set(tid, signal);
      }
      fresh = listThreads(pid).filter((tid) => !seized.has(tid));
    }
  } catch (error) {
    release();
    throw isFdcrError(error, 'FDCR_E_DUMP_FREEZE') ? error : freezeError(pid, (error as Error).message, error);
  }
  return { release };
}

/**
 * Freezes our own child with SIGSTOP. ptrace-stops of a child would be reaped by Node's own
 * SIGCHLD handling and mistaken for an exit; a plain stop is not, and only we, the parent,
 * could observe it. A child that was already stopped is left stopped.
 */
function stopChild(pid: number): Hold {
  const wasStopped = readProcStat(pid).state === 'T';
  if (!wasStopped) process.kill(pid, 'SIGSTOP');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (!listThreads(pid).every((tid) => readStat(`/proc/${pid}/task/${tid}/stat`).state === 'T')) {
    if (Date.now() > deadline) {
      if (!wasStopped) continueQuietly(pid);
      throw freezeError(pid, 'it did not stop');
    }
    sleepMs(1);
  }
  return { release: () => (wasStopped ? undefined : continueQuietly(pid)) };
}

/** SIGCONT to a child that may be gone already (killed by a dump with `kill`). */
function continueQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGCONT');
  } catch {
    // Nothing left to continue.
  }
}

/** Freezes every process in `pids`; on failure, thaws those already frozen and throws. */
export function freezeProcesses(pids: readonly number[]): Frozen {
  const holds: Hold[] = [];
  let thawed = false;
  const thaw = (): void => {
    if (thawed) return;
    thawed = true;
    for (const hold of holds.reverse()) hold.release();
  };
  try {
    for (const pid of pids) {
      if (pid === process.pid) throw freezeError(pid, 'fdcr cannot freeze itself; pass freeze: false');
      holds.push(readProcStat(pid).ppid === process.pid ? stopChild(pid) : seize(pid));
    }
  } catch (error) {
    thaw();
    throw error;
  }
  return { pids, thaw };
}
