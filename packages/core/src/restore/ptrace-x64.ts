import { closeSync, openSync, readSync } from 'node:fs';
import { FdcrError } from '../errors/fdcr-error.js';
import { WALL } from '../linux/constants.js';
import { bindLibc } from '../linux/libc.js';
import { waitpid } from '../linux/syscalls.js';

// The ptrace requests, options and x86_64 register layout the close-on-exec tracer needs
// (<linux/ptrace.h>, <sys/user.h>). Only the tracer process loads this file.

export const PTRACE_DETACH = 17;
export const PTRACE_SYSCALL = 24;
export const PTRACE_SEIZE = 0x4206;
const PTRACE_GETREGS = 12;
const PTRACE_SETREGS = 13;
const PTRACE_GET_SYSCALL_INFO = 0x420e;

export const PTRACE_O_TRACESYSGOOD = 1;
export const PTRACE_O_TRACEEXEC = 1 << 4;
export const PTRACE_O_EXITKILL = 1 << 20;
export const PTRACE_EVENT_EXEC = 4;

/** Indices into struct user_regs_struct, 27 unsigned 64-bit words. */
export const REG = { r10: 7, rax: 10, rdx: 12, rsi: 13, rdi: 14, origRax: 15, rip: 16 } as const;
const REG_WORDS = 27;

const SIGTRAP = 5;
/** With PTRACE_O_TRACESYSGOOD a syscall-stop reports SIGTRAP with bit 7 set. */
const SYSCALL_STOP = SIGTRAP | 0x80;

const ptraceWord = bindLibc('long ptrace(long request, int pid, uintptr_t addr, uintptr_t data)');
const ptraceBuffer = bindLibc('long ptrace(long request, int pid, uintptr_t addr, void *data)');

/** ptrace with integer addr and data: SEIZE options, CONT/SYSCALL/DETACH signals. */
export function ptraceCall(request: number, pid: number, data = 0): void {
  ptraceWord(request, pid, 0, data);
}

/** The general registers of a ptrace-stopped tracee. */
export function getRegs(pid: number): BigUint64Array {
  const buffer = Buffer.alloc(REG_WORDS * 8);
  ptraceBuffer(PTRACE_GETREGS, pid, 0, buffer);
  return new BigUint64Array(buffer.buffer, buffer.byteOffset, REG_WORDS).slice();
}

/** Replaces the general registers of a ptrace-stopped tracee. */
export function setRegs(pid: number, regs: BigUint64Array): void {
  ptraceBuffer(PTRACE_SETREGS, pid, 0, Buffer.from(regs.buffer, regs.byteOffset, REG_WORDS * 8));
}

/** At a syscall-stop: whether it is the entry or the exit, and the syscall number at entry. */
export function syscallInfo(pid: number): { entry: boolean; exit: boolean; nr: number } {
  const buffer = Buffer.alloc(88);
  ptraceBuffer(PTRACE_GET_SYSCALL_INFO, pid, buffer.length, buffer);
  const op = buffer.readUInt8(0);
  return { entry: op === 1, exit: op === 2, nr: op === 1 ? Number(buffer.readBigUInt64LE(24)) : -1 };
}

/** One report of waitpid about a tracee that is still alive. */
export type TraceStop =
  | { kind: 'syscall' }
  | { kind: 'event'; event: number }
  | { kind: 'signal'; signal: number };

/**
 * Waits for the next stop of a tracee. An exit or a fatal signal is an error: every caller
 * expects the tracee to be alive (PTRACE_O_EXITKILL also turns a tracer failure into one).
 */
export function nextStop(pid: number): TraceStop {
  const [, status] = waitpid(pid, WALL);
  if ((status & 0xff) !== 0x7f) {
    const how = (status & 0x7f) === 0 ? `exited with status ${(status >> 8) & 0xff}` : `was killed by signal ${status & 0x7f}`;
    throw new FdcrError('FDCR_E_RESTORE_SPAWN', `process ${pid} ${how} before its program started`, { pid });
  }
  const signal = (status >> 8) & 0xff;
  const event = status >>> 16;
  if (event !== 0) return { kind: 'event', event };
  return signal === SYSCALL_STOP ? { kind: 'syscall' } : { kind: 'signal', signal };
}

/** Reads `length` bytes of a stopped tracee's memory at `address`. */
export function readMemory(pid: number, address: bigint, length: number): Buffer {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const got = readSync(fd, buffer, 0, length, address);
    return buffer.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}
