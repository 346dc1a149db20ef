import { FdcrError, type OpenFile } from '@fdcr/core';
import { TCP_LISTEN, type UnixSocketDiag } from '../diag/unix-diag.js';
import { typeName, type SocketTypeName } from '../pair-state.js';

/** One live end to checkpoint: the open file and what sock_diag says about its socket. */
export interface LiveEnd {
  file: OpenFile;
  diag: UnixSocketDiag;
}

/** A pair to checkpoint; `peer` is absent when the other end was closed. */
export interface PairPlan {
  type: SocketTypeName;
  end: LiveEnd;
  peer?: LiveEnd;
  /** Inode of the closed other end, when sock_diag still names it (else 0). */
  closedIno: number;
}

function name(file: OpenFile): string {
  return `pid ${file.pid} fd ${file.fd} -> socket:[${file.stat.ino}]`;
}

/** Why one claimed socket cannot be saved as part of a pair, or undefined if it can. */
function problemOf(
  file: OpenFile,
  diag: UnixSocketDiag | undefined,
  byIno: Map<number, OpenFile>,
  sockets: Map<number, UnixSocketDiag>,
): string | undefined {
  if (diag === undefined) return `${name(file)}: sock_diag does not list it (another network namespace?)`;
  if (diag.name !== undefined && diag.name.length > 0) return `${name(file)}: the socket is bound to a name`;
  if (diag.state === TCP_LISTEN) return `${name(file)}: the socket is listening`;
  if (typeName(diag.type) === undefined) return `${name(file)}: socket type ${diag.type} is not supported`;
  const peer = diag.peer ?? 0;
  if (peer === 0 || !sockets.has(peer)) return undefined;
  if (!byIno.has(peer)) {
    return `${name(file)}: its peer socket:[${peer}] is not part of this checkpoint (open in a process not being dumped, or in flight in a queue)`;
  }
  if (sockets.get(peer)?.peer !== diag.ino) return `${name(file)}: its peer socket:[${peer}] is connected elsewhere`;
  return undefined;
}

function refuse(problems: readonly string[], first: OpenFile): FdcrError {
  return new FdcrError('FDCR_E_DUMP_UNSUPPORTED_STATE', `cannot checkpoint ${problems.length} unix socket(s) as socketpairs: ${problems.join('; ')}`, {
    pid: first.pid,
    fd: first.fd,
    hint: 'checkpoint every process that holds an end of the pair together (--pid for each, or --tree)',
  });
}

/**
 * Matches the claimed sockets into pairs by inode through sock_diag's peer field, linear in
 * the number of sockets. Every socket that is not one end of a pair fully inside the
 * checkpoint (or the survivor of a closed pair) is refused, all named in one error.
 */
export function planPairs(files: readonly OpenFile[], sockets: Map<number, UnixSocketDiag>): PairPlan[] {
  const byIno = new Map<number, OpenFile>();
  for (const file of files) {
    const ino = Number(file.stat.ino);
    if (byIno.has(ino)) throw new FdcrError('FDCR_E_INTERNAL', `socket:[${ino}] reached the socketpair plugin as two open files`);
    byIno.set(ino, file);
  }
  const problems: string[] = [];
  const plans: PairPlan[] = [];
  const planned = new Set<number>();
  for (const [ino, file] of byIno) {
    const diag = sockets.get(ino);
    const problem = problemOf(file, diag, byIno, sockets);
    if (problem !== undefined) problems.push(problem);
    if (problem !== undefined || diag === undefined || planned.has(ino)) continue;
    const type = typeName(diag.type) as SocketTypeName;
    const peerIno = diag.peer ?? 0;
    const peerFile = sockets.has(peerIno) ? byIno.get(peerIno) : undefined;
    const peer =
      peerFile === undefined
        ? undefined
        : { file: peerFile, diag: sockets.get(peerIno) as UnixSocketDiag };
    plans.push({ type, end: { file, diag }, peer, closedIno: peer === undefined ? peerIno : 0 });
    planned.add(ino).add(peerIno);
  }
  if (problems.length > 0) throw refuse(problems, files[0] as OpenFile);
  return plans;
}
