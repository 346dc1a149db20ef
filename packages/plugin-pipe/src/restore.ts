import { fstatSync, openSync, writeSync } from 'node:fs';
import { FdcrError, linux, type EntityRecord, type RestoreContext } from '@fdcr/core';
import { parsePipeObject, type PipeObjectState } from './pipe-object.js';

const {
  O_ACCMODE, O_APPEND, O_ASYNC, O_CLOEXEC, O_DIRECT, O_NOATIME, O_NOFOLLOW, O_NONBLOCK, O_PATH,
  O_RDONLY, O_RDWR, O_WRONLY,
} = linux;

/** Status flags F_SETFL can change; the access mode is fixed at open. */
const SETTABLE = O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK;

/** The pipe being rebuilt: one descriptor we hold on each side while ends are opened. */
interface Anchors {
  read: number;
  write: number;
  /** Path to open further ends through: the FIFO, or /proc/self/fd of an anchor. */
  reopen: (mode: number) => string;
  /** Anchors handed out as entities, which must not be closed here. */
  used: Set<number>;
  /** Other descriptors held while the ends are opened, closed afterwards. */
  held?: number[];
}

function stateError(objectId: number, what: string): FdcrError {
  return new FdcrError('FDCR_E_PIPE_STATE', `pipe object ${objectId}: ${what}`);
}

/** Creates an anonymous pipe (also used for an unlinked FIFO, which no one can reopen by name). */
function anonymousAnchors(): Anchors {
  const [read, write] = linux.pipe2(O_CLOEXEC | O_NONBLOCK);
  return {
    read,
    write,
    reopen: (mode) => `/proc/self/fd/${mode === O_WRONLY ? write : read}`,
    used: new Set(),
  };
}

/**
 * Opens a FIFO by path without blocking: an O_RDWR open never waits for a peer, and while
 * we hold it, neither does any other open. The path is first opened with O_PATH and checked,
 * so that a recorded path that is now something else (a device, say) is never opened for
 * real; every end is then opened through that checked O_PATH descriptor.
 */
function fifoAnchors(path: Buffer, objectId: number): Anchors {
  const pathFd = openSync(path, O_PATH | O_NOFOLLOW);
  if (!fstatSync(pathFd).isFIFO()) {
    linux.closeQuietly(pathFd);
    throw new FdcrError('FDCR_E_PIPE_NOT_FIFO', `cannot restore FIFO ${path.toString('utf8')} (pipe object ${objectId}): the path is not a FIFO`, {
      path: path.toString('utf8'),
    });
  }
  const reopen = (): string => `/proc/self/fd/${pathFd}`;
  let fd: number;
  try {
    fd = openSync(reopen(), O_RDWR | O_NONBLOCK);
  } catch (error) {
    linux.closeQuietly(pathFd);
    throw error;
  }
  return { read: fd, write: fd, reopen, used: new Set(), held: [pathFd] };
}

function setCapacity(anchors: Anchors, state: PipeObjectState, objectId: number): void {
  let got: number;
  try {
    got = linux.setPipeSize(anchors.write, state.capacity);
  } catch (error) {
    throw new FdcrError('FDCR_E_PIPE_CAPACITY', `cannot restore pipe capacity ${state.capacity} (pipe object ${objectId}): ${(error as FdcrError).errno ?? error}`, {
      cause: error,
      hint: 'raise /proc/sys/fs/pipe-max-size or restore as root',
    });
  }
  if (got < state.capacity) {
    throw new FdcrError('FDCR_E_PIPE_CAPACITY', `pipe object ${objectId}: kernel gave capacity ${got}, ${state.capacity} recorded`);
  }
}

/** Writes the saved data back; every chunk of a packet pipe is written as one packet. */
function fillData(anchors: Anchors, state: PipeObjectState, objectId: number, ctx: RestoreContext): void {
  if (state.stream === undefined) return;
  if (state.packet) linux.setStatusFlags(anchors.write, linux.getStatusFlags(anchors.write) | O_DIRECT);
  let total = 0;
  for (const chunk of ctx.data(state.stream)) {
    let done = 0;
    while (done < chunk.data.length) {
      const wrote = tryWrite(anchors.write, chunk.data, done);
      if (wrote === 0) {
        throw new FdcrError('FDCR_E_PIPE_CAPACITY', `pipe object ${objectId}: data does not fit in capacity ${state.capacity}`);
      }
      done += wrote;
    }
    total += done;
  }
  if (total !== state.bytes) throw stateError(objectId, `data holds ${total} bytes, ${state.bytes} recorded`);
}

function tryWrite(fd: number, data: Buffer, offset: number): number {
  try {
    return writeSync(fd, data, offset, data.length - offset);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw error;
  }
}

/** One fd per entity: an anchor where it fits, a fresh open of the pipe otherwise. */
function openEnd(anchors: Anchors, entity: EntityRecord): number {
  const mode = entity.flags & O_ACCMODE;
  const anchor = mode === O_RDONLY ? anchors.read : mode === O_WRONLY ? anchors.write : -1;
  let fd: number;
  if (anchor >= 0 && anchors.read !== anchors.write && !anchors.used.has(anchor)) {
    anchors.used.add(anchor);
    fd = anchor;
  } else {
    fd = openSync(anchors.reopen(mode), mode | O_NONBLOCK);
  }
  try {
    linux.setStatusFlags(fd, entity.flags & SETTABLE);
  } catch (error) {
    if (!anchors.used.has(fd)) linux.closeQuietly(fd);
    throw error;
  }
  return fd;
}

/**
 * Rebuilds one pipe: creates it (or opens the FIFO), restores its capacity, then its data,
 * then opens every recorded end with its own flags and hands each to the engine.
 */
export function restorePipe(objectId: number, ends: readonly EntityRecord[], ctx: RestoreContext): void {
  const record = ctx.objects.get(objectId);
  const state = record === undefined ? undefined : parsePipeObject(record.state);
  if (state === undefined) throw stateError(objectId, 'missing or malformed object record');
  const fifo = state.path !== undefined && !state.deleted;
  const anchors = fifo ? fifoAnchors(Buffer.from(state.path as Uint8Array), objectId) : anonymousAnchors();
  try {
    setCapacity(anchors, state, objectId);
    fillData(anchors, state, objectId, ctx);
    for (const entity of ends) {
      const fd = openEnd(anchors, entity);
      ctx.provide(entity.id, fd);
    }
  } finally {
    for (const fd of new Set([anchors.read, anchors.write])) {
      if (!anchors.used.has(fd)) linux.closeQuietly(fd);
    }
    for (const fd of anchors.held ?? []) linux.closeQuietly(fd);
  }
}
