import { FdcrError, isFdcrError, linux, type DataChunk, type EntityRecord, type RestoreContext } from '@fdcr/core';
import { rightsControl } from '../linux/control.js';
import {
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  SO_PASSCRED,
  SO_PEEK_OFF,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  getIntOption,
  sendSome,
  sendmsg,
  setIntOption,
  shutdown,
  socketpair,
} from '../linux/socket-calls.js';
import { SOCKET_TYPES, parseRights, parseSocketpairState, type EndState, type SocketpairState } from '../pair-state.js';

/** Per-skb overhead the kernel charges against the sender's buffer, generously rounded. */
const SKB_OVERHEAD = 1024;
/** Largest value SO_SNDBUFFORCE takes without overflowing the doubled size. */
const MAX_FORCE = 0x3fffffff;

function stateError(objectId: number, what: string): FdcrError {
  return new FdcrError('FDCR_E_SOCKETPAIR_STATE', `socketpair object ${objectId}: ${what}`);
}

/** Sets a buffer size with the FORCE option (root) and falls back to the capped one. */
function setBuffer(fd: number, plain: number, force: number, value: number): void {
  try {
    setIntOption(fd, SOL_SOCKET, force, value);
  } catch (error) {
    if (!isFdcrError(error) || error.errno !== 'EPERM') throw error;
    setIntOption(fd, SOL_SOCKET, plain, value);
  }
}

/**
 * Makes room for a saved queue: unix sockets charge queued data to the sender's SO_SNDBUF,
 * so a queue larger than the default (e.g. after the application raised it) only fits once
 * the sender's buffer is raised too. The recorded sizes are re-applied after the fill.
 */
function raiseBuffers(sender: number, receiver: number, end: EndState): void {
  const need = Math.min(MAX_FORCE, 2 * end.bytes + SKB_OVERHEAD * (end.messages + 64));
  if (getIntOption(sender, SOL_SOCKET, SO_SNDBUF) < need) setBuffer(sender, SO_SNDBUF, SO_SNDBUFFORCE, need);
  if (getIntOption(receiver, SOL_SOCKET, SO_RCVBUF) < need) {
    setBuffer(receiver, SO_RCVBUF, SO_RCVBUFFORCE, need);
  }
}

function queueFull(objectId: number, end: EndState, sent: number): FdcrError {
  return new FdcrError('FDCR_E_SOCKETPAIR_QUEUE_FULL', `cannot refill the queue of socket:[${end.ino}] (socketpair object ${objectId}): it took ${sent} of ${end.bytes} bytes`, {
    hint: 'restore as root so that SO_SNDBUFFORCE can raise the buffer size, or raise net.core.wmem_max',
  });
}

/**
 * The restored fds of the entities a chunk passed; every one must have been restored by
 * its plugin already (this plugin carries files, so it restores after the others).
 */
function passedFds(chunk: DataChunk, end: EndState, objectId: number, ctx: RestoreContext): number[] {
  const rights = parseRights(chunk.extra);
  if (rights === undefined) throw stateError(objectId, `socket:[${end.ino}] has a data chunk with a malformed extra`);
  return rights.map((id) => {
    const fd = ctx.fdOf(id);
    if (fd === undefined) throw stateError(objectId, `entity ${id}, in flight in socket:[${end.ino}], was not restored`);
    return fd;
  });
}

/**
 * Sends one saved chunk: a datagram whole, stream bytes until all are queued. Passed fds go
 * with the first send, as SCM_RIGHTS; the kernel takes its own references to their files.
 */
function sendChunk(
  sender: number,
  data: Buffer,
  message: boolean,
  passed: readonly number[],
  onFull: () => FdcrError,
): void {
  let done = 0;
  do {
    const rest = done === 0 ? data : data.subarray(done);
    const wrote =
      done === 0 && passed.length > 0
        ? sendmsg(sender, rest, rightsControl(passed), 0)
        : sendSome(sender, rest, 0);
    if (wrote < 0 || (message && wrote !== data.length)) throw onFull();
    done += wrote;
  } while (done < data.length);
}

// Limitation: refilled messages carry fdcr's own credentials, not the original sender's;
// a receiver with SO_PASSCRED sees fdcr's pid.
/** Refills the receive queue of `receiver` by sending the saved data from its peer. */
function fillQueue(
  receiver: number,
  sender: number,
  end: EndState,
  objectId: number,
  ctx: RestoreContext,
): void {
  if (end.stream === undefined) {
    if (end.bytes !== 0 || end.messages !== 0) throw stateError(objectId, `socket:[${end.ino}] has queued data but no stream`);
    return;
  }
  raiseBuffers(sender, receiver, end);
  let bytes = 0;
  let messages = 0;
  for (const chunk of ctx.data(end.stream)) {
    const passed = passedFds(chunk, end, objectId, ctx);
    sendChunk(sender, chunk.data, chunk.message, passed, () => queueFull(objectId, end, bytes));
    bytes += chunk.data.length;
    if (chunk.message) messages++;
  }
  if (bytes !== end.bytes || messages !== end.messages) {
    throw stateError(objectId, `socket:[${end.ino}] data holds ${bytes} bytes in ${messages} messages, ${end.bytes} in ${end.messages} recorded`);
  }
}

/** Re-applies the recorded options; sizes only where they differ, so no lock bit is set needlessly. */
function applyOptions(fd: number, end: EndState): void {
  if (getIntOption(fd, SOL_SOCKET, SO_SNDBUF) !== end.sndbuf) {
    setBuffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, end.sndbuf / 2);
  }
  if (getIntOption(fd, SOL_SOCKET, SO_RCVBUF) !== end.rcvbuf) {
    setBuffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, end.rcvbuf / 2);
  }
  if (end.passcred === true) setIntOption(fd, SOL_SOCKET, SO_PASSCRED, 1);
  if (end.peekOff !== -1) setIntOption(fd, SOL_SOCKET, SO_PEEK_OFF, end.peekOff);
}

/**
 * Shutdown bits go on last: a reader must see the refilled data before end-of-file, and a
 * sender shut for writing must still have been able to refill its peer. SHUT_RD is 0,
 * SHUT_WR 1, SHUT_RDWR 2: the recorded bits minus one.
 */
function applyShutdown(fd: number, bits: number): void {
  if (bits !== 0) shutdown(fd, bits - 1);
}

/** Builds the two sockets of a pair with queues, options and shutdown state as recorded. */
function buildPair(objectId: number, state: SocketpairState, ctx: RestoreContext): [number, number] {
  const fds = socketpair(SOCKET_TYPES[state.type] | SOCK_CLOEXEC | SOCK_NONBLOCK);
  try {
    fillQueue(fds[0], fds[1], state.ends[0], objectId, ctx);
    fillQueue(fds[1], fds[0], state.ends[1], objectId, ctx);
    state.ends.forEach((end, i) => {
      if (end.closed !== true) applyOptions(fds[i] as number, end);
    });
    state.ends.forEach((end, i) => {
      if (end.closed !== true) applyShutdown(fds[i] as number, end.shutdown);
    });
    return fds;
  } catch (error) {
    fds.forEach((fd) => linux.closeQuietly(fd));
    throw error;
  }
}

/**
 * Rebuilds one pair from a fresh socketpair() and hands each recorded end to the engine.
 * An end that had been closed is closed here too, after the survivor's queue is full, so
 * the survivor reads its data and then end-of-file exactly as before.
 */
export function restorePair(objectId: number, entities: readonly EntityRecord[], ctx: RestoreContext): void {
  const record = ctx.objects.get(objectId);
  const state = record === undefined ? undefined : parseSocketpairState(record.state);
  if (state === undefined) throw stateError(objectId, 'missing or malformed object record');
  const fds = buildPair(objectId, state, ctx);
  const handed = new Set<number>();
  try {
    for (const entity of entities) {
      const end = (entity.state as { end?: unknown }).end;
      if ((end !== 0 && end !== 1) || state.ends[end].closed === true || handed.has(end)) {
        throw stateError(objectId, `entity ${entity.id} names end ${String(end)}, which cannot be restored`);
      }
      linux.setStatusFlags(fds[end], entity.flags & linux.O_NONBLOCK);
      ctx.provide(entity.id, fds[end]);
      handed.add(end);
    }
  } finally {
    fds.forEach((fd, i) => {
      if (!handed.has(i)) linux.closeQuietly(fd);
    });
  }
}
