import type { FdProbe, InspectContext, InspectFacts } from '@fdcr/core';
import { dumpUnixSockets } from '../diag/query.js';
import type { UnixSocketDiag } from '../diag/unix-diag.js';
import { typeName } from '../pair-state.js';

/** Cache key of the run's sock_diag dump, shared by every socketpair end inspected. */
const DIAG_KEY = 'socketpair:diag';

const SHUTDOWN_NAMES = ['', 'rd', 'wr', 'rd+wr'];

function shutdownName(diag: UnixSocketDiag | undefined): string | undefined {
  const bits = (diag?.shutdown ?? 0) & 3;
  return bits === 0 ? undefined : SHUTDOWN_NAMES[bits];
}

// Limitation: for a datagram socket the kernel's queue length (SIOCINQ, sock_diag RQLEN) is
// the size of the first queued datagram only, so inspect shows that, not the whole queue;
// counting every message would take peeking, which inspect must not do.
/**
 * Live facts of one socketpair end: its peer's inode and the bytes queued each way, both
 * from one sock_diag dump per inspect run (cached in `ctx`): the receive queue of this end
 * is what it can read, the receive queue of its peer is what it wrote and the peer has not
 * read. A peer sock_diag does not list (closed, or in another network namespace) gives no
 * peer and no outbound count.
 */
export function inspectEnd(probe: FdProbe, ctx: InspectContext): InspectFacts {
  const sockets = ctx.cached(DIAG_KEY, dumpUnixSockets);
  const self = sockets.get(Number(probe.stat.ino));
  const peerIno = self?.peer ?? 0;
  const peer = peerIno === 0 ? undefined : sockets.get(peerIno);
  const type = self === undefined ? undefined : typeName(self.type);
  const details: Record<string, unknown> = {};
  if (type !== undefined) details.type = type;
  if (peer === undefined) details.peer = peerIno === 0 ? 'closed' : `socket:[${peerIno}] (not listed)`;
  const shut = shutdownName(self);
  if (shut !== undefined) details.shutdown = shut;
  return {
    kind: 'socketpair',
    peerInode: peer === undefined ? undefined : peerIno,
    pendingIn: self?.rqueue,
    pendingOut: peer?.rqueue,
    details,
  };
}
