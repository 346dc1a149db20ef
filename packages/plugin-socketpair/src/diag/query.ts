import { FdcrError, isFdcrError, linux } from '@fdcr/core';
import { AF_NETLINK, SOCK_CLOEXEC, recvSome, sendSome, socket } from '../linux/socket-calls.js';
import {
  NETLINK_SOCK_DIAG,
  UDIAG_SHOW_NAME,
  UDIAG_SHOW_PEER,
  UDIAG_SHOW_RQLEN,
  buildUnixDiagRequest,
  parseUnixDiagReplies,
  type UnixSocketDiag,
} from './unix-diag.js';

const SOCK_DGRAM = 2;
/** Large enough for any netlink datagram the kernel sends to a dump (it uses up to 32 KiB). */
const RECEIVE_SIZE = 64 * 1024;

function diagError(error: unknown): FdcrError {
  if (isFdcrError(error, 'FDCR_E_SOCKETPAIR_DIAG')) return error;
  return new FdcrError('FDCR_E_SOCKETPAIR_DIAG', `cannot list unix sockets through sock_diag: ${(error as Error).message}`, {
    cause: error,
    hint: 'the kernel needs CONFIG_UNIX_DIAG (module unix_diag)',
  });
}

/**
 * Every unix socket of fdcr's network namespace, keyed by inode, from one sock_diag dump:
 * peers, names, queue lengths and shutdown bits. One netlink round trip per checkpoint.
 */
export function dumpUnixSockets(): Map<number, UnixSocketDiag> {
  let fd: number | undefined;
  try {
    fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    const request = buildUnixDiagRequest(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN, 1);
    if (sendSome(fd, request, 0) !== request.length) throw new Error('short send of the request');
    return receiveAll(fd);
  } catch (error) {
    throw diagError(error);
  } finally {
    linux.closeQuietly(fd);
  }
}

function receiveAll(fd: number): Map<number, UnixSocketDiag> {
  const sockets = new Map<number, UnixSocketDiag>();
  const buffer = Buffer.alloc(RECEIVE_SIZE);
  for (;;) {
    const got = recvSome(fd, buffer, 0);
    if (got <= 0) throw new Error('the netlink socket closed before the dump ended');
    const batch = parseUnixDiagReplies(buffer.subarray(0, got));
    for (const diag of batch.sockets) sockets.set(diag.ino, diag);
    if (batch.done) return sockets;
  }
}
