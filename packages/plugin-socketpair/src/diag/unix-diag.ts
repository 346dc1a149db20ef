import { FdcrError, linux } from '@fdcr/core';

/** Netlink and sock_diag constants (linux/netlink.h, linux/sock_diag.h, linux/unix_diag.h). */
export const NETLINK_SOCK_DIAG = 4;
export const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLMSG_HEADER = 16;
const UNIX_DIAG_MSG = 16;
const AF_UNIX = 1;

export const UDIAG_SHOW_NAME = 0x1;
export const UDIAG_SHOW_PEER = 0x4;
export const UDIAG_SHOW_RQLEN = 0x10;

const UNIX_DIAG_NAME = 0;
const UNIX_DIAG_PEER = 2;
const UNIX_DIAG_RQLEN = 4;
const UNIX_DIAG_SHUTDOWN = 6;

/** Socket states as unix_diag reports them (the TCP state names the kernel reuses). */
export const TCP_ESTABLISHED = 1;
export const TCP_LISTEN = 10;

/** sk_shutdown bits: no more receptions, no more sends. */
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;

/** What sock_diag says about one unix socket. */
export interface UnixSocketDiag {
  ino: number;
  /** SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET. */
  type: number;
  state: number;
  /** Inode of the peer; absent or 0 when there is none (or it was closed). */
  peer?: number;
  /** The bound name (a path, or an abstract name starting with a NUL); absent when unnamed. */
  name?: Buffer;
  /** Number of skbs in the receive queue: one per message for datagram sockets. */
  rqueue?: number;
  wqueue?: number;
  /** sk_shutdown bits (RCV_SHUTDOWN, SEND_SHUTDOWN). */
  shutdown?: number;
}

/**
 * The bytes of a SOCK_DIAG_BY_FAMILY request for unix sockets: a dump of every socket in
 * every state when `ino` is absent, else an exact lookup of one inode.
 */
export function buildUnixDiagRequest(show: number, seq: number, ino?: number): Buffer {
  const request = Buffer.alloc(NLMSG_HEADER + 24);
  request.writeUInt32LE(request.length, 0);
  request.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  request.writeUInt16LE(NLM_F_REQUEST | (ino === undefined ? NLM_F_DUMP : 0), 6);
  request.writeUInt32LE(seq, 8);
  request.writeUInt8(AF_UNIX, 16);
  request.writeUInt32LE(0xffffffff, 20);
  request.writeUInt32LE(ino ?? 0, 24);
  request.writeUInt32LE(show, 28);
  // No cookie to check: INET_DIAG_NOCOOKIE in both words.
  request.writeUInt32LE(0xffffffff, 32);
  request.writeUInt32LE(0xffffffff, 36);
  return request;
}

function malformed(what: string): FdcrError {
  return new FdcrError('FDCR_E_SOCKETPAIR_DIAG', `malformed sock_diag reply: ${what}`);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Reads the attributes (struct rtattr list) that follow a unix_diag_msg. */
function parseAttributes(diag: UnixSocketDiag, body: Buffer): void {
  let at = 0;
  while (at + 4 <= body.length) {
    const length = body.readUInt16LE(at);
    const type = body.readUInt16LE(at + 2);
    if (length < 4 || at + length > body.length) throw malformed(`attribute of length ${length}`);
    const value = body.subarray(at + 4, at + length);
    if (type === UNIX_DIAG_NAME) diag.name = Buffer.from(value);
    else if (type === UNIX_DIAG_PEER && value.length >= 4) diag.peer = value.readUInt32LE(0);
    else if (type === UNIX_DIAG_RQLEN && value.length >= 8) {
      diag.rqueue = value.readUInt32LE(0);
      diag.wqueue = value.readUInt32LE(4);
    } else if (type === UNIX_DIAG_SHUTDOWN && value.length >= 1) diag.shutdown = value.readUInt8(0);
    at += align4(length);
  }
}

function parseDiagMessage(payload: Buffer): UnixSocketDiag {
  if (payload.length < UNIX_DIAG_MSG) throw malformed(`unix_diag_msg of ${payload.length} bytes`);
  const diag: UnixSocketDiag = {
    type: payload.readUInt8(1),
    state: payload.readUInt8(2),
    ino: payload.readUInt32LE(4),
  };
  parseAttributes(diag, payload.subarray(UNIX_DIAG_MSG));
  return diag;
}

/** What one datagram of netlink replies held. */
export interface DiagBatch {
  sockets: UnixSocketDiag[];
  /** NLMSG_DONE was seen: the dump is complete. */
  done: boolean;
}

/**
 * Parses one datagram of netlink replies. An NLMSG_ERROR with a non-zero code becomes an
 * error carrying the errno number; an acknowledgement (code 0) ends the reply.
 */
export function parseUnixDiagReplies(data: Buffer): DiagBatch {
  const batch: DiagBatch = { sockets: [], done: false };
  let at = 0;
  while (at + NLMSG_HEADER <= data.length) {
    const length = data.readUInt32LE(at);
    const type = data.readUInt16LE(at + 4);
    if (length < NLMSG_HEADER || at + length > data.length) throw malformed(`message of length ${length}`);
    const payload = data.subarray(at + NLMSG_HEADER, at + length);
    if (type === NLMSG_DONE) {
      batch.done = true;
      return batch;
    }
    if (type === NLMSG_ERROR) {
      const code = payload.length >= 4 ? -payload.readInt32LE(0) : 0;
      if (code !== 0) throw new FdcrError('FDCR_E_SOCKETPAIR_DIAG', `sock_diag request failed: ${linux.errnoName(code)}`, { errno: linux.errnoName(code) });
      batch.done = true;
      return batch;
    }
    if (type === SOCK_DIAG_BY_FAMILY) batch.sockets.push(parseDiagMessage(payload));
    at += align4(length);
  }
  return batch;
}
