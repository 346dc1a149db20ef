import { FdcrError, linux } from '@fdcr/core';
import { parseControl } from '../linux/control.js';
import {
  MSG_CMSG_CLOEXEC,
  MSG_CTRUNC,
  MSG_DONTWAIT,
  MSG_PEEK,
  MSG_TRUNC,
  SOL_SOCKET,
  SO_PASSCRED,
  SO_PEEK_OFF,
  getIntOption,
  recvmsg,
  setIntOption,
  type Received,
} from '../linux/socket-calls.js';

const PEEK = MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
const STREAM_READ = 256 * 1024;
const FIRST_MESSAGE_BUFFER = 64 * 1024;
/** Room for SCM_RIGHTS with the kernel's maximum of 253 fds, plus credentials. */
const CONTROL_SIZE = 4096;

/** Which socket is being read, for error messages. */
export interface SocketRef {
  pid: number;
  fd: number;
  ino: number;
}

/** What was copied from one receive queue. */
export interface QueueCopy {
  bytes: number;
  messages: number;
  /** The application's SO_PEEK_OFF, put back unchanged. */
  peekOff: number;
}

/**
 * Receives one chunk of data or one message from the queue; `passed` holds the entity ids
 * of the descriptors it carried (SCM_RIGHTS), in order.
 */
export type QueueSink = (chunk: Buffer, message: boolean, passed?: readonly number[]) => void;

/** Turns fdcr's copies of passed descriptors into entity ids (CheckpointContext.checkpointExtra). */
export type Carrier = (localFds: readonly number[]) => number[];

/** What one peek found: its length and flags, and the passed descriptors it installed. */
type Peeked = Received & { credentials: boolean; passed: number[] };

function where(ref: SocketRef): string {
  return `socket:[${ref.ino}] (pid ${ref.pid} fd ${ref.fd})`;
}

function truncatedError(ref: SocketRef): FdcrError {
  return new FdcrError(
    'FDCR_E_DUMP_UNSUPPORTED_STATE',
    `cannot checkpoint socketpair ${where(ref)}: a queued message carries more ancillary data than fdcr can peek (MSG_CTRUNC)`,
    { pid: ref.pid, fd: ref.fd },
  );
}

/**
 * One peeking recvmsg. Peeking SCM_RIGHTS installs copies of the passed fds in fdcr (the
 * kernel takes new references; the queue keeps its own): they are returned in `passed`
 * for the caller to register and close. Any other installed fd (SCM_PIDFD) is closed here.
 */
function peek(fd: number, data: Buffer, control: Buffer, flags: number, ref: SocketRef): Peeked | undefined {
  const got = recvmsg(fd, data, control, PEEK | flags);
  if (got === undefined) return undefined;
  const summary = parseControl(control, got.controlLength);
  for (const other of summary.fds) if (!summary.passed.includes(other)) linux.closeQuietly(other);
  if ((got.flags & MSG_CTRUNC) !== 0) {
    for (const passed of summary.passed) linux.closeQuietly(passed);
    throw truncatedError(ref);
  }
  return { ...got, credentials: summary.credentials, passed: summary.passed };
}

/** Registers the passed fds of one peek with the carrier, then closes fdcr's copies. */
function adopt(passed: readonly number[], carry: Carrier): number[] | undefined {
  try {
    return passed.length === 0 ? undefined : carry(passed);
  } finally {
    for (const fd of passed) linux.closeQuietly(fd);
  }
}

/**
 * Hands a peeked stream segment to the sink. With passed descriptors, the peek ended with
 * the write that carried them, but where that write began cannot be seen (see peekStream),
 * so they are recorded with the segment's last byte alone: a receiver gets them with the
 * read that reaches the end of that write, never earlier than from the original queue.
 */
function sinkSegment(segment: Buffer, passed: readonly number[] | undefined, sink: QueueSink): void {
  if (passed === undefined || segment.length <= 1) {
    sink(segment, false, passed);
    return;
  }

  sink(segment.subarray(0, segment.length - 1), false);
  sink(segment.subarray(segment.length - 1), false, passed);
}

// Limitation: passed descriptors on a stream socket come back with the last byte of the
// bytes queued up to them, not with the first byte of the write that carried them: a
// receiver that reads that write in pieces gets them with its last piece.
/**
 * A stream's queue is read in bounded chunks until FIONREAD's count is reached. A peek ends
 * after a segment carrying descriptors, but the kernel also attaches the descriptors of the
 * next such segment to a peek that stops short of it, filling the buffer. So a full buffer
 * with descriptors is peeked again, from the same offset, with a buffer larger than the
 * rest of the queue: the peek then ends exactly with the write that carried them. Any other
 * total than FIONREAD's means the queue holds what a peek cannot see (out-of-band data) or
 * it changed.
 */
function peekStream(fd: number, ref: SocketRef, sink: QueueSink, carry: Carrier): QueueCopy {
  const expected = linux.bytesReadable(fd);
  let data = Buffer.allocUnsafe(Math.min(STREAM_READ, Math.max(expected, 1)));
  const control = Buffer.alloc(CONTROL_SIZE);
  let bytes = 0;
  while (bytes < expected) {
    const got = peek(fd, data, control, 0, ref);
    const ambiguous = got !== undefined && got.passed.length > 0 && got.length === data.length;
    if (got === undefined || got.length === 0 || ambiguous) adopt(got?.passed ?? [], () => []);
    if (got === undefined || got.length === 0) break;
    if (ambiguous) {
      setIntOption(fd, SOL_SOCKET, SO_PEEK_OFF, bytes);
      data = Buffer.allocUnsafe(expected - bytes + 1);
      continue;
    }

    sinkSegment(data.subarray(0, got.length), adopt(got.passed, carry), sink);
    bytes += got.length;
  }
  if (bytes !== expected) {
    throw new FdcrError('FDCR_E_DUMP_DATA_CHANGED', `cannot copy the queue of socketpair ${where(ref)}: peeked ${bytes} of ${expected} bytes (out-of-band data is not supported)`, {
      pid: ref.pid,
      fd: ref.fd,
    });
  }
  return { bytes, messages: 0, peekOff: -1 };
}

/**
 * A datagram or seqpacket queue is read one whole message per peek until none is left.
 * MSG_TRUNC makes the kernel report a message's full length; a message larger than the
 * buffer is peeked again from its own offset with a buffer that fits it. With SO_PASSCRED
 * on, every queued message comes with SCM_CREDENTIALS, which tells a zero-length message
 * from the 0 a socket shut for reading returns at its end.
 */
function peekMessages(fd: number, ref: SocketRef, sink: QueueSink, carry: Carrier): QueueCopy {
  let data = Buffer.allocUnsafe(FIRST_MESSAGE_BUFFER);
  const control = Buffer.alloc(CONTROL_SIZE);
  let bytes = 0;
  let messages = 0;
  for (;;) {
    const got = peek(fd, data, control, MSG_TRUNC, ref);
    if (got === undefined || !got.credentials || got.length > data.length) adopt(got?.passed ?? [], () => []);
    if (got === undefined || !got.credentials) break;
    if (got.length > data.length) {
      setIntOption(fd, SOL_SOCKET, SO_PEEK_OFF, bytes);
      data = Buffer.allocUnsafe(got.length);
      continue;
    }
    sink(data.subarray(0, got.length), true, adopt(got.passed, carry));
    bytes += got.length;
    messages++;
  }
  return { bytes, messages, peekOff: -1 };
}

/** Runs `body` with an option of the shared socket set to `value`, then puts it back exactly. */
function withOption<T>(fd: number, name: number, value: number, body: () => T): T {
  const saved = getIntOption(fd, SOL_SOCKET, name);
  setIntOption(fd, SOL_SOCKET, name, value);
  try {
    return body();
  } finally {
    setIntOption(fd, SOL_SOCKET, name, saved);
  }
}

/**
 * Copies a socket's receive queue without consuming it. SO_PEEK_OFF lets successive
 * MSG_PEEK calls walk the queue; fdcr's descriptor shares the socket with the application,
 * so the application's own peek offset is saved first and put back exactly (also -1), as is
 * its SO_PASSCRED. The target is frozen meanwhile, so it never sees the changed values.
 */
export function copyQueue(
  fd: number,
  stream: boolean,
  ref: SocketRef,
  sink: QueueSink,
  carry: Carrier,
): QueueCopy {
  const peekOff = getIntOption(fd, SOL_SOCKET, SO_PEEK_OFF);
  const copy = withOption(fd, SO_PEEK_OFF, 0, () =>
    stream
      ? peekStream(fd, ref, sink, carry)
      : withOption(fd, SO_PASSCRED, 1, () => peekMessages(fd, ref, sink, carry)),
  );
  return { ...copy, peekOff };
}
