import { TIOCOUTQ } from '../linux/constants.js';
import { bytesReadable, getPipeSize, ioctlInt } from '../linux/syscalls.js';
import type { FdPlugin, FdProbe, InspectContext, InspectFacts } from '../plugin/fd-plugin.js';
import type { LiveFd, LivePeer } from './live-scan.js';
import type { PeerIndex } from './peer-index.js';
import { previewPipe } from './pipe-preview.js';

/** Runs a measurement; a failure is recorded as unavailable rather than thrown. */
function attempt<T>(fd: LiveFd, what: string, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    fd.unavailable = [...(fd.unavailable ?? []), `${what}: ${(error as Error).message}`];
    return undefined;
  }
}

/** Pending bytes and capacity of a pipe: one count for the pipe, seen from either end. */
function pipeFacts(fd: LiveFd, probe: FdProbe): void {
  const pending = attempt(fd, 'pending bytes', () => bytesReadable(probe.localFd));
  if (fd.access === 'w') fd.pendingOut = pending;
  else fd.pendingIn = pending;
  fd.capacity = attempt(fd, 'capacity', () => getPipeSize(probe.localFd));
}

/**
 * The generic socket fallback: SIOCINQ (FIONREAD) and SIOCOUTQ. For a unix socket the
 * second counts bytes sent and not yet read by the peer. Listening and unconnected
 * sockets refuse both, which is not worth reporting.
 */
function socketFacts(fd: LiveFd, probe: FdProbe): void {
  try {
    fd.pendingIn = bytesReadable(probe.localFd);
    fd.pendingOut = ioctlInt(probe.localFd, TIOCOUTQ);
  } catch {
    // Not a connected stream or datagram socket: no queues to show.
  }
}

function mergeFacts(fd: LiveFd, facts: InspectFacts): void {
  if (facts.kind !== undefined) fd.kind = facts.kind;
  if (facts.peerInode !== undefined) fd.peerInode = facts.peerInode;
  if (facts.pendingIn !== undefined) fd.pendingIn = facts.pendingIn;
  if (facts.pendingOut !== undefined) fd.pendingOut = facts.pendingOut;
  if (facts.details !== undefined) fd.details = { ...fd.details, ...facts.details };
}

// Limitation: a socket's other end is found only through a plugin's peerInode (sock_diag).
function peersOf(fd: LiveFd, pid: number, peers: PeerIndex): LivePeer[] {
  const holders =
    fd.type === 'pipe' || fd.type === 'fifo'
      ? peers.holdersOf(fd.target)
      : fd.type === 'socket' && fd.peerInode !== undefined
        ? peers.holdersOfInode('socket', fd.peerInode)
        : [];
  return holders
    .filter((h) => !(h.pid === pid && h.fd === fd.fd))
    .map((h) => ({ ...h, access: peers.accessOf(h) }))
    .sort((a, b) => a.pid - b.pid || a.fd - b.fd);
}

/** What every descriptor of one inspect run shares: the peer index, options, plugin cache. */
export interface LiveRun {
  peers: PeerIndex;
  previewBytes: number;
  context: InspectContext;
}

/** Fills in the measured facts of a live descriptor: queues, capacity, peers, preview. */
export function liveFacts(fd: LiveFd, probe: FdProbe, plugin: FdPlugin | undefined, run: LiveRun): LiveFd {
  const { peers, previewBytes } = run;
  if (fd.type === 'pipe' || fd.type === 'fifo') pipeFacts(fd, probe);
  if (fd.type === 'socket') socketFacts(fd, probe);
  const facts =
    plugin?.inspect === undefined
      ? undefined
      : attempt(fd, plugin.meta.name, () => plugin.inspect!(probe, run.context));
  if (facts !== undefined) mergeFacts(fd, facts);
  fd.peers = peersOf(fd, probe.pid, peers);
  const pending = fd.pendingIn ?? fd.pendingOut ?? 0;
  if (previewBytes > 0 && pending > 0 && (fd.type === 'pipe' || fd.type === 'fifo')) {
    const preview = attempt(fd, 'preview', () =>
      previewPipe(probe.localFd, fd.access !== 'w', fd.target, peers, previewBytes),
    );
    if (preview !== undefined) fd.preview = preview;
  }
  return fd;
}
