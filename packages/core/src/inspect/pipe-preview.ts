import { openSync, readSync } from 'node:fs';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, SPLICE_F_NONBLOCK } from '../linux/constants.js';
import { closeQuietly, pidfdGetfd, pidfdOpen, pipe2, tee } from '../linux/syscalls.js';
import type { Holder, PeerIndex } from './peer-index.js';

/** Duplicates a holder's descriptor into this process; undefined when not allowed. */
function borrow(holder: Holder): number | undefined {
  let pidfd: number | undefined;
  try {
    pidfd = pidfdOpen(holder.pid);
    return pidfdGetfd(pidfd, holder.fd);
  } catch {
    return undefined;
  } finally {
    closeQuietly(pidfd);
  }
}

/**
 * A descriptor that can read the pipe: a read end some process already holds, borrowed
 * with pidfd_getfd. Only for an anonymous pipe do we fall back to opening a new read end
 * through /proc: opening a FIFO for reading could wake a writer blocked in open(2), which
 * would then meet EPIPE once we close it again.
 */
function readerFor(localFd: number, link: string, peers: PeerIndex): number | undefined {
  for (const holder of peers.holdersOf(link)) {
    if (peers.accessOf(holder) === 'w') continue;

    const fd = borrow(holder);
    if (fd !== undefined) return fd;
  }
  // Limitation: a FIFO nobody holds open for reading gets no preview.
  if (!link.startsWith('pipe:[')) return undefined;

  try {
    return openSync(`/proc/self/fd/${localFd}`, O_RDONLY | O_NONBLOCK);
  } catch {
    return undefined;
  }
}

/**
 * Copies up to `limit` pending bytes of a pipe without consuming them: tee() into a private
 * pipe, then read that. `readable` says whether `localFd` is itself a read end. Returns
 * undefined when no read end could be found.
 */
export function previewPipe(
  localFd: number,
  readable: boolean,
  link: string,
  peers: PeerIndex,
  limit: number,
): Buffer | undefined {
  const source = readable ? localFd : readerFor(localFd, link, peers);
  if (source === undefined) return undefined;

  let scratch: [number, number] | undefined;
  try {
    scratch = pipe2(O_CLOEXEC | O_NONBLOCK);
    const copied = teeQuietly(source, scratch[1], limit);
    const buffer = Buffer.alloc(copied);
    return buffer.subarray(0, copied === 0 ? 0 : readSync(scratch[0], buffer, 0, copied, null));
  } finally {
    if (scratch !== undefined) scratch.forEach(closeQuietly);
    if (source !== localFd) closeQuietly(source);
  }
}

function teeQuietly(from: number, to: number, limit: number): number {
  try {
    return tee(from, to, limit, SPLICE_F_NONBLOCK);
  } catch {
    // EAGAIN: the pipe was drained between FIONREAD and tee.
    return 0;
  }
}
