import { readFileSync } from 'node:fs';
import { FdcrError } from '../errors/fdcr-error.js';
import { readStat } from '../linux/proc.js';
import { sleepMs } from '../linux/syscalls.js';
import {
  getRegs,
  nextStop,
  PTRACE_DETACH,
  PTRACE_EVENT_EXEC,
  PTRACE_O_EXITKILL,
  PTRACE_O_TRACEEXEC,
  PTRACE_O_TRACESYSGOOD,
  PTRACE_SEIZE,
  PTRACE_SYSCALL,
  ptraceCall,
  readMemory,
  REG,
  setRegs,
  syscallInfo,
} from './ptrace-x64.js';

const STOP_TIMEOUT_MS = 5000;
const SYS_FCNTL = 72n;
const SYS_EXECVE = 59;
const SYS_EXECVEAT = 322;
const F_SETFD = 2n;
const FD_CLOEXEC = 1n;

function failure(pid: number, reason: string): FdcrError {
  return new FdcrError('FDCR_E_RESTORE_SPAWN', `cannot set FD_CLOEXEC in process ${pid}: ${reason}`, { pid });
}

/** Waits until the wrapper shell has stopped itself (state T: group-stop, not yet traced). */
function awaitGroupStop(pid: number): void {
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (;;) {
    const { state } = readStat(`/proc/${pid}/stat`);
    if (state === 'T') return;

    if (state === 'Z') throw failure(pid, 'it exited before exec');
    if (Date.now() > deadline) throw failure(pid, 'it did not stop before exec');
    sleepMs(1);
  }
}

/**
 * The address of the environment array the shell itself was started with. The kernel lays
 * out argc, argv[], NULL, envp[] from the stack start (/proc/PID/stat field 28), and the shell
 * only reads that array: it builds its own list of exported variables instead, which leaves
 * out names that are not shell identifiers and adds or rewrites PWD. Handing the original
 * array to its execve gives the program exactly the environment fdcr spawned it with.
 */
function initialEnvp(pid: number): bigint {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const start = BigInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[25] ?? '0');
  const argc = readFileSync(`/proc/${pid}/cmdline`).filter((b) => b === 0).length;
  const words = argc + 2;
  const head = start === 0n ? Buffer.alloc(0) : readMemory(pid, start, 8 * words);
  const argcThere = head.length === 8 * words ? head.readBigUInt64LE(0) : -1n;
  if (argcThere !== BigInt(argc) || head.readBigUInt64LE(8 * (argc + 1)) !== 0n) {
    throw failure(pid, 'its initial stack does not hold the expected argument vector');
  }
  return start + BigInt(8 * words);
}

/**
 * Lets the stopped shell run up to the end of its successful execve, pointing every execve it
 * attempts (one per PATH entry tried) at its original environment. Signals it receives before
 * then are delivered to it as usual.
 */
function runThroughExec(pid: number, envp: bigint, held: number[]): void {
  for (;;) {
    const stop = nextStop(pid);
    if (stop.kind === 'event' && stop.event === PTRACE_EVENT_EXEC) break;

    if (stop.kind === 'syscall') redirectEnvironment(pid, envp);
    ptraceCall(PTRACE_SYSCALL, pid, stop.kind === 'signal' ? stop.signal : 0);
  }
  // The exec event comes from inside execve, before its return value is stored: registers
  // set now would be overwritten. Its syscall-exit-stop, next, is where they are final.
  ptraceCall(PTRACE_SYSCALL, pid, 0);
  expectSyscallStop(pid, 'exit', held);
}

function redirectEnvironment(pid: number, envp: bigint): void {
  const info = syscallInfo(pid);
  if (!info.entry || (info.nr !== SYS_EXECVE && info.nr !== SYS_EXECVEAT)) return;

  const regs = getRegs(pid);
  regs[info.nr === SYS_EXECVE ? REG.rdx : REG.r10] = envp;
  setRegs(pid, regs);
}

/**
 * Waits for the next syscall-stop, which must be of the given kind. A signal arriving
 * meanwhile is held back (resuming without it), to be sent again once the tracee is
 * released: delivering it now would run a handler on registers that are not its own.
 */
function expectSyscallStop(pid: number, kind: 'entry' | 'exit', held: number[]): void {
  for (;;) {
    const stop = nextStop(pid);
    if (stop.kind === 'syscall' && syscallInfo(pid)[kind]) return;

    if (stop.kind === 'syscall') throw failure(pid, `expected a syscall ${kind} stop`);
    if (stop.kind === 'signal') held.push(stop.signal);
    ptraceCall(PTRACE_SYSCALL, pid, 0);
  }
}

/**
 * An address in the tracee's executable memory holding the bytes of the `syscall`
 * instruction. Executing an existing one, rather than writing one at the entry point, leaves
 * the program's memory untouched (a write would also turn a shared page of text private).
 * The vDSO always has one; the dynamic loader or a static program's text is the fallback.
 */
function findSyscallInstruction(pid: number): bigint {
  const maps = readFileSync(`/proc/${pid}/maps`, 'latin1').split('\n');
  const code = maps.filter((line) => / r-x. /.test(line) && !line.endsWith('[vsyscall]'));
  code.sort((a, b) => Number(b.endsWith('[vdso]')) - Number(a.endsWith('[vdso]')));
  for (const line of code) {
    const [start = 0n, end = 0n] = (line.split(' ')[0] ?? '').split('-').map((hex) => BigInt(`0x${hex}`));
    const at = readMemory(pid, start, Number(end - start)).indexOf(Buffer.from([0x0f, 0x05]));
    if (at >= 0) return start + BigInt(at);
  }
  throw failure(pid, 'no syscall instruction found in its executable memory');
}

/** Runs fcntl(fd, F_SETFD, FD_CLOEXEC) in the tracee from the syscall instruction at `at`. */
function injectSetCloexec(pid: number, saved: BigUint64Array, at: bigint, fd: number, held: number[]): void {
  const regs = saved.slice();
  regs[REG.rax] = SYS_FCNTL;
  regs[REG.rdi] = BigInt(fd);
  regs[REG.rsi] = F_SETFD;
  regs[REG.rdx] = FD_CLOEXEC;
  // No syscall is in progress any more: keep the kernel from treating this as a restart.
  regs[REG.origRax] = BigInt.asUintN(64, -1n);
  regs[REG.rip] = at;
  setRegs(pid, regs);
  ptraceCall(PTRACE_SYSCALL, pid, 0);
  expectSyscallStop(pid, 'entry', held);
  ptraceCall(PTRACE_SYSCALL, pid, 0);
  expectSyscallStop(pid, 'exit', held);
  const result = BigInt.asIntN(64, getRegs(pid)[REG.rax] ?? 0n);
  if (result !== 0n) throw failure(pid, `fcntl(${fd}, F_SETFD) returned ${result}`);
}

/**
 * Sets FD_CLOEXEC on `fds` of process `pid` as its program starts. The process must be the
 * wrapper shell of `stopBeforeExec`, stopping itself before it execs the program. The tracer
 * seizes it there, lets it exec, and at the syscall-exit-stop of that execve (the program has
 * not run one instruction yet) makes it call fcntl once per fd; then it puts the registers
 * back exactly as execve left them and detaches. Call from a process that is not `pid`'s
 * parent: a parent's own child reaping would consume the ptrace-stops.
 */
export function applyCloexecAtExec(pid: number, fds: readonly number[]): void {
  awaitGroupStop(pid);
  ptraceCall(PTRACE_SEIZE, pid, PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
  const envp = initialEnvp(pid);
  // Seizing a stopped process reports its group-stop; the SIGCONT ends the stop for job
  // control too, so the parent never sees a stopped child once the program runs.
  process.kill(pid, 'SIGCONT');
  const held: number[] = [];
  runThroughExec(pid, envp, held);

  const saved = getRegs(pid);
  const at = findSyscallInstruction(pid);
  for (const fd of fds) injectSetCloexec(pid, saved, at, fd, held);
  setRegs(pid, saved);
  ptraceCall(PTRACE_DETACH, pid, 0);
  for (const signal of held) process.kill(pid, signal);
}
