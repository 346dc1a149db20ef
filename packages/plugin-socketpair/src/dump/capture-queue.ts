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

/** Receives one chunk of data or one message from the queue. */
export type QueueSink = (chunk: Buffer, message: boolean) => void;

function where(ref: SocketRef): string {
  return `socket:[${ref.ino}] (pid ${ref.pid} fd ${ref.fd})`;
}

function inFlightError(ref: SocketRef): FdcrError {
  return new FdcrError(
    'FDCR_E_DUMP_UNSUPPORTED_STATE',
    `cannot checkpoint socketpair ${where(ref)}: its receive queue holds file descriptors in flight (SCM_RIGHTS)`,
    { pid: ref.pid, fd: ref.fd, hint: 'let the application receive the passed descriptors before dumping it' },
  );
}

// Limitation: passed fds (SCM_RIGHTS) in a queue are refused, not saved; such a process
// cannot be dumped until it has received them.
/**
 * One peeking recvmsg. Peeking SCM_RIGHTS installs copies of the passed fds in fdcr: they
 * are closed at once, and the dump is refused since they cannot be saved yet.
 */
function peek(fd: number, data: Buffer, control: Buffer, flags: number, ref: SocketRef): (Received & { credentials: boolean }) | undefined {
  const got = recvmsg(fd, data, control, PEEK | flags);
  if (got === undefined) return undefined;
  const summary = parseControl(control, got.controlLength);
  for (const passed of summary.fds) linux.closeQuietly(passed);
  if (summary.rights || (got.flags & MSG_CTRUNC) !== 0) throw inFlightError(ref);
  return { ...got, credentials: summary.credentials };
}

/**
 * A stream's queue is read in bounded chunks until FIONREAD's count is reached. Any other
 * total means the queue holds what a peek cannot see (out-of-band data) or it changed.
 */
function peekStream(fd: number, ref: SocketRef, sink: QueueSink): QueueCopy {
  const expected = linux.bytesReadable(fd);
  const data = Buffer.allocUnsafe(Math.min(STREAM_READ, Math.max(expected, 1)));
  const control = Buffer.alloc(CONTROL_SIZE);
  let bytes = 0;
  while (bytes < expected) {
    const got = peek(fd, data, control, 0, ref);
    if (got === undefined || got.length === 0) break;
    sink(data.subarray(0, got.length), false);
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
function peekMessages(fd: number, ref: SocketRef, sink: QueueSink): QueueCopy {
  let data = Buffer.allocUnsafe(FIRST_MESSAGE_BUFFER);
  const control = Buffer.alloc(CONTROL_SIZE);
  let bytes = 0;
  let messages = 0;
  for (;;) {
    const got = peek(fd, data, control, MSG_TRUNC, ref);
    if (got === undefined || !got.credentials) break;
    if (got.length > data.length) {
      setIntOption(fd, SOL_SOCKET, SO_PEEK_OFF, bytes);
      data = Buffer.allocUnsafe(got.length);
      continue;
    }
    sink(data.subarray(0, got.length), true);
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
export function copyQueue(fd: number, stream: boolean, ref: SocketRef, sink: QueueSink): QueueCopy {
  const peekOff = getIntOption(fd, SOL_SOCKET, SO_PEEK_OFF);
  const copy = withOption(fd, SO_PEEK_OFF, 0, () =>
    stream ? peekStream(fd, ref, sink) : withOption(fd, SO_PASSCRED, 1, () => peekMessages(fd, ref, sink)),
  );
  return { ...copy, peekOff };
}
