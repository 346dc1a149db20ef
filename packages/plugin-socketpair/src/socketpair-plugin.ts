import { FdcrError, PLUGIN_API_VERSION, linux } from '@fdcr/core';
import type {
  CheckpointContext,
  EntityRecord,
  FdPlugin,
  FdProbe,
  InspectContext,
  InspectFacts,
  ObjectRecord,
  OpenFile,
  PluginMeta,
  RestoreContext,
} from '@fdcr/core';
import { dumpUnixSockets } from './diag/query.js';
import { checkpointPair } from './dump/checkpoint-pair.js';
import { planPairs } from './dump/plan-pairs.js';
import { inspectEnd } from './inspect/inspect-end.js';
import { AF_UNIX, SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_TYPE, addressLength, getIntOption } from './linux/socket-calls.js';
import { typeName, type EndState, type SocketpairState } from './pair-state.js';
import { restorePair } from './restore/restore-pair.js';

/** Length of an unnamed sockaddr_un: the address family alone. */
const UNNAMED = 2;

/** Metadata of the socketpair plugin. */
export const socketpairPluginMeta: PluginMeta = {
  name: 'socketpair',
  version: '0.1.0',
  apiVersion: PLUGIN_API_VERSION,
  // 2: data chunks may pass descriptors (`x.rights`), which version 1 would drop.
  stateVersion: 2,
  description: 'Connected unnamed unix sockets (socketpair): queues both ways with passed fds, buffer sizes, shutdown, peek offset',
  carriesFiles: true,
};

/** Whether fdcr's duplicate of a socket is a connected, unnamed, non-listening unix socket. */
function isUnnamedConnectedUnix(fd: number): boolean {
  if (getIntOption(fd, SOL_SOCKET, SO_DOMAIN) !== AF_UNIX) return false;
  if (typeName(getIntOption(fd, SOL_SOCKET, SO_TYPE)) === undefined) return false;
  if (getIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN) !== 0) return false;
  return addressLength(fd, false) === UNNAMED && addressLength(fd, true) === UNNAMED;
}

function shutdownWords(bits: number): string {
  return ['', ', shut rd', ', shut wr', ', shut rd+wr'][bits] ?? '';
}

function queueWords(end: EndState, stream: boolean): string {
  return stream ? `${end.bytes} bytes queued` : `${end.messages} messages (${end.bytes} bytes) queued`;
}

/**
 * Checkpoints and restores pairs of connected, unnamed AF_UNIX sockets (stream, datagram,
 * seqpacket) as made by socketpair(). Each pair is one object; each open end is an entity.
 * Peers are matched through sock_diag by inode; a pair whose other end lives outside the
 * checkpoint is refused with FDCR_E_DUMP_UNSUPPORTED_STATE. Descriptors in flight in a
 * queue (SCM_RIGHTS) are checkpointed as entities of the plugins that handle them
 * (`checkpointExtra`) and passed again at restore; one no plugin handles is refused with
 * FDCR_E_DUMP_UNSUPPORTED_FD naming the socket.
 */
export class SocketpairPlugin implements FdPlugin {
  readonly meta = socketpairPluginMeta;

  claims(probe: FdProbe): boolean {
    if ((Number(probe.stat.mode) & linux.S_IFMT) !== linux.S_IFSOCK) return false;
    try {
      return isUnnamedConnectedUnix(probe.localFd);
    } catch {
      // A socket the probes cannot query is left to the classifier's unsupported error.
      return false;
    }
  }

  checkpoint(files: readonly OpenFile[], ctx: CheckpointContext): void {
    const plans = planPairs(files, dumpUnixSockets());
    for (const plan of plans) checkpointPair(plan, ctx);
  }

  restore(entities: readonly EntityRecord[], ctx: RestoreContext): void {
    const byObject = new Map<number, EntityRecord[]>();
    for (const entity of entities) {
      if (entity.object === undefined) {
        throw new FdcrError('FDCR_E_SOCKETPAIR_STATE', `socketpair entity ${entity.id} has no pair object`);
      }
      const list = byObject.get(entity.object) ?? [];
      list.push(entity);
      byObject.set(entity.object, list);
    }
    for (const [objectId, ends] of byObject) restorePair(objectId, ends, ctx);
  }

  inspect(probe: FdProbe, ctx: InspectContext): InspectFacts {
    return inspectEnd(probe, ctx);
  }

  describe(entity: EntityRecord, object: ObjectRecord | undefined): string {
    const state = object?.state as Partial<SocketpairState> | undefined;
    const index = (entity.state as { end?: number }).end ?? 0;
    const end = state?.ends?.[index];
    const other = state?.ends?.[1 - index];
    if (end === undefined || other === undefined) return `socketpair end ${index} (no pair record)`;
    const peer = other.closed === true ? 'peer closed' : `peer socket:[${other.ino}]`;
    const peek = end.peekOff >= 0 ? `, peek offset ${end.peekOff}` : '';
    return `socketpair ${state?.type} socket:[${end.ino}] (${peer}), ${queueWords(end, state?.type === 'stream')}${shutdownWords(end.shutdown)}${peek}`;
  }
}

/** A new socketpair plugin instance, ready for `registerPlugin`. */
export function socketpairPlugin(): SocketpairPlugin {
  return new SocketpairPlugin();
}
