import type { CheckpointContext } from '@fdcr/core';
import { RCV_SHUTDOWN, SEND_SHUTDOWN } from '../diag/unix-diag.js';
import { SOL_SOCKET, SO_PASSCRED, SO_RCVBUF, SO_SNDBUF, getIntOption } from '../linux/socket-calls.js';
import { rightsExtra, type EndState, type SocketpairState } from '../pair-state.js';
import { copyQueue } from './capture-queue.js';
import type { LiveEnd, PairPlan } from './plan-pairs.js';

/** Saves one live end: its options, shutdown bits and receive queue (as a data stream). */
function saveEnd(end: LiveEnd, plan: PairPlan, ctx: CheckpointContext): EndState {
  const { file, diag } = end;
  const fd = file.localFd;
  const ref = { pid: file.pid, fd: file.fd, ino: diag.ino };
  const stream = ctx.newStream();
  const via = `socket:[${diag.ino}] (pid ${file.pid} fd ${file.fd})`;
  const carry = (fds: readonly number[]): number[] => fds.map((passed) => ctx.checkpointExtra(passed, via));
  const copy = copyQueue(
    fd,
    plan.type === 'stream',
    ref,
    (chunk, message, passed) =>
      ctx.writeData(stream, chunk, message, passed === undefined ? undefined : rightsExtra(passed)),
    carry,
  );
  const state: EndState = {
    ino: diag.ino,
    bytes: copy.bytes,
    messages: copy.messages,
    peekOff: copy.peekOff,
    sndbuf: getIntOption(fd, SOL_SOCKET, SO_SNDBUF),
    rcvbuf: getIntOption(fd, SOL_SOCKET, SO_RCVBUF),
    shutdown: (diag.shutdown ?? 0) & (RCV_SHUTDOWN | SEND_SHUTDOWN),
  };
  if (copy.bytes > 0 || copy.messages > 0) state.stream = stream;
  if (getIntOption(fd, SOL_SOCKET, SO_PASSCRED) !== 0) state.passcred = true;
  return state;
}

/** The record of an end that was closed before the dump; only its survivor matters. */
function closedEnd(ino: number): EndState {
  return { ino, closed: true, bytes: 0, messages: 0, peekOff: -1, sndbuf: 0, rcvbuf: 0, shutdown: 0 };
}

/** Records one pair as an object and each live end as an entity pointing at it. */
export function checkpointPair(plan: PairPlan, ctx: CheckpointContext): void {
  const first = saveEnd(plan.end, plan, ctx);
  const second = plan.peer === undefined ? closedEnd(plan.closedIno) : saveEnd(plan.peer, plan, ctx);
  const state: SocketpairState = { type: plan.type, ends: [first, second] };
  const object = ctx.addObject('socketpair', state as unknown as Record<string, unknown>);
  ctx.addEntity(plan.end.file, { kind: 'socketpair', object, state: { end: 0 } });
  if (plan.peer !== undefined) ctx.addEntity(plan.peer.file, { kind: 'socketpair', object, state: { end: 1 } });
  ctx.logger.debug(`fdcr:socketpair: saved ${plan.type} pair socket:[${first.ino}] socket:[${second.ino}], ${first.bytes} + ${second.bytes} bytes queued`);
}

