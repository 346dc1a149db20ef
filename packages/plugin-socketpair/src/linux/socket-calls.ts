import koffi from 'koffi';
import { bindLibc, isFdcrError, syscallError } from '@fdcr/core';

/** Socket constants of the Linux ABI (x86_64 and arm64 share them). */
export const AF_UNIX = 1;
export const AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_TYPE = 3;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_PASSCRED = 16;
export const SO_ACCEPTCONN = 30;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_DOMAIN = 39;
export const SO_PEEK_OFF = 42;
export const MSG_PEEK = 0x2;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;
export const SHUT_RD = 0;
export const SHUT_WR = 1;

const socketNative = bindLibc('int socket(int domain, int type, int protocol)');
const socketpairNative = bindLibc('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
const getsockoptNative = bindLibc(
  'int getsockopt(int fd, int level, int name, _Out_ int *value, _Inout_ uint32_t *len)',
);
const setsockoptNative = bindLibc(
  'int setsockopt(int fd, int level, int name, _In_ int *value, uint32_t len)',
);
const getsocknameNative = bindLibc('int getsockname(int fd, void *addr, _Inout_ uint32_t *len)');
const getpeernameNative = bindLibc('int getpeername(int fd, void *addr, _Inout_ uint32_t *len)');
const sendNative = bindLibc('intptr_t send(int fd, const void *buf, size_t len, int flags)');
const recvNative = bindLibc('intptr_t recv(int fd, void *buf, size_t len, int flags)');
const shutdownNative = bindLibc('int shutdown(int fd, int how)');

/** Creates a socket; returns its fd. */
export function socket(domain: number, type: number, protocol = 0): number {
  return socketNative(domain, type, protocol);
}

/** Creates a connected pair of unix sockets; returns both fds. */
export function socketpair(type: number): [number, number] {
  const sv = [-1, -1];
  socketpairNative(AF_UNIX, type, 0, sv);
  return [sv[0] as number, sv[1] as number];
}

/** An integer socket option. */
export function getIntOption(fd: number, level: number, name: number): number {
  const value = [0];
  getsockoptNative(fd, level, name, value, [4]);
  return value[0] as number;
}

/** Sets an integer socket option. */
export function setIntOption(fd: number, level: number, name: number, value: number): void {
  setsockoptNative(fd, level, name, [value], 4);
}

/** The length of the local (or peer) address of a socket; 2 means unnamed (family only). */
export function addressLength(fd: number, peer: boolean): number | undefined {
  const address = Buffer.alloc(128);
  const length = [address.length];
  try {
    (peer ? getpeernameNative : getsocknameNative)(fd, address, length);
  } catch (error) {
    if (isFdcrError(error) && error.errno === 'ENOTCONN') return undefined;
    throw error;
  }
  return length[0] as number;
}

/** send(2); returns -1 instead of throwing when a non-blocking socket is full. */
export function sendSome(fd: number, data: Buffer, flags: number): number {
  try {
    return sendNative(fd, data, data.length, flags | MSG_NOSIGNAL);
  } catch (error) {
    if (isFdcrError(error) && error.errno === 'EAGAIN') return -1;
    throw error;
  }
}

/** recv(2); returns -1 instead of throwing when nothing is queued. */
export function recvSome(fd: number, buffer: Buffer, flags: number): number {
  try {
    return recvNative(fd, buffer, buffer.length, flags);
  } catch (error) {
    if (isFdcrError(error) && error.errno === 'EAGAIN') return -1;
    throw error;
  }
}

/** shutdown(2). */
export function shutdown(fd: number, how: number): void {
  shutdownNative(fd, how);
}

/** What one peeking recvmsg returned. */
export interface Received {
  /** Bytes of the message or stream segment (the full length of a datagram with MSG_TRUNC). */
  length: number;
  /** Message flags set by the kernel (MSG_TRUNC, MSG_CTRUNC). */
  flags: number;
  /** Bytes of ancillary data written to the control buffer. */
  controlLength: number;
}

type MsgCall = (...args: unknown[]) => number | bigint;

let recvmsgNative: MsgCall | undefined;
let sendmsgNative: MsgCall | undefined;
let msghdrDeclared = false;

function declareMsghdr(): void {
  if (msghdrDeclared) return;
  msghdrDeclared = true;
  // struct msghdr and struct iovec of the 64-bit Linux ABI; koffi lays them out with padding.
  koffi.struct('fdcr_sp_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('fdcr_sp_msghdr', {
    name: 'void *',
    namelen: 'uint32_t',
    iov: 'fdcr_sp_iovec *',
    iovlen: 'size_t',
    control: 'void *',
    controllen: 'size_t',
    flags: 'int',
  });
}

function recvmsgFunction(): MsgCall {
  if (recvmsgNative !== undefined) return recvmsgNative;
  declareMsghdr();
  recvmsgNative = koffi.load('libc.so.6').func('intptr_t recvmsg(int fd, _Inout_ fdcr_sp_msghdr *msg, int flags)');
  return recvmsgNative;
}

function sendmsgFunction(): MsgCall {
  if (sendmsgNative !== undefined) return sendmsgNative;
  declareMsghdr();
  sendmsgNative = koffi.load('libc.so.6').func('intptr_t sendmsg(int fd, fdcr_sp_msghdr *msg, int flags)');
  return sendmsgNative;
}

/**
 * A struct msghdr for one unnamed message: `data` as its single iovec and `control` as its
 * ancillary buffer. recvmsg writes `flags` and `controllen` back into it.
 */
function messageHeader(data: Buffer, control: Buffer) {
  return {
    name: null,
    namelen: 0,
    iov: { base: data, len: data.length },
    iovlen: 1,
    control,
    controllen: control.length,
    flags: 0,
  };
}

/**
 * sendmsg(2) of `data` with a control buffer (ancillary data such as SCM_RIGHTS); returns
 * -1 instead of throwing when a non-blocking socket is full (EAGAIN).
 */
export function sendmsg(fd: number, data: Buffer, control: Buffer, flags: number): number {
  const msg = messageHeader(data, control);
  const result = Number(sendmsgFunction()(fd, msg, flags | MSG_NOSIGNAL));
  if (result === -1) {
    const errno = koffi.errno();
    if (errno === 11) return -1;
    throw syscallError('sendmsg', errno, `fd ${fd}`);
  }
  return result;
}

/**
 * recvmsg(2) into `data` with a control buffer; undefined when nothing is queued (EAGAIN).
 * The kernel writes straight into both buffers.
 */
export function recvmsg(fd: number, data: Buffer, control: Buffer, flags: number): Received | undefined {
  const msg = messageHeader(data, control);
  const result = Number(recvmsgFunction()(fd, msg, flags));
  if (result === -1) {
    const errno = koffi.errno();
    if (errno === 11) return undefined;
    throw syscallError('recvmsg', errno, `fd ${fd}`);
  }
  return { length: result, flags: msg.flags, controlLength: Number(msg.controllen) };
}
