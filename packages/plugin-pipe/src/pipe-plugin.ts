import { FdcrError, PLUGIN_API_VERSION, linux } from '@fdcr/core';
import type { CheckpointContext, EntityRecord, FdPlugin, FdProbe, ObjectRecord, OpenFile, PluginMeta, RestoreContext } from '@fdcr/core';
import { capturePipeData, ScratchPipe } from './capture.js';
import { fifoPath, isAnonymousLink, type PipeObjectState } from './pipe-object.js';
import { restorePipe } from './restore.js';

const { O_ACCMODE, O_DIRECT, O_PATH, O_RDONLY, O_WRONLY, S_IFIFO, S_IFMT } = linux;

/** Metadata of the pipe plugin. */
export const pipePluginMeta: PluginMeta = {
  name: 'pipe',
  version: '0.1.0',
  apiVersion: PLUGIN_API_VERSION,
  stateVersion: 1,
  description: 'Pipes and FIFOs: pending data, capacity, per-end flags, packet mode',
};

/**
 * Checkpoints and restores pipes and FIFOs. Each pipe is one shared object (capacity and
 * pending data, saved once); each open end is an entity with its own flags.
 *
 * Errors: checkpoint throws FDCR_E_DUMP_DATA_CHANGED when tee cannot copy every pending byte
 * in one call; restore throws FDCR_E_PIPE_NOT_FIFO when a recorded FIFO path is no longer a
 * FIFO, FDCR_E_PIPE_CAPACITY when the capacity cannot be set or the data does not fit, and
 * FDCR_E_PIPE_STATE for an inconsistent record. Failed syscalls surface as FDCR_E_SYSCALL.
 */
export class PipePlugin implements FdPlugin {
  readonly meta = pipePluginMeta;

  claims(probe: FdProbe): boolean {
    // An O_PATH fd on a FIFO is a path reference, not an open end: the file plugin's job.
    return (Number(probe.stat.mode) & S_IFMT) === S_IFIFO && (probe.info.flags & O_PATH) === 0;
  }

  checkpoint(files: readonly OpenFile[], ctx: CheckpointContext): void {
    const byPipe = new Map<string, OpenFile[]>();
    for (const file of files) {
      const key = `${file.stat.dev}:${file.stat.ino}`;
      const list = byPipe.get(key);
      if (list === undefined) byPipe.set(key, [file]);
      else list.push(file);
    }
    const scratch = new ScratchPipe();
    try {
      for (const ends of byPipe.values()) this.checkpointPipe(ends, ctx, scratch);
    } finally {
      scratch.close();
    }
  }

  restore(entities: readonly EntityRecord[], ctx: RestoreContext): void {
    const byObject = new Map<number, EntityRecord[]>();
    for (const entity of entities) {
      if (entity.object === undefined) {
        throw new FdcrError('FDCR_E_PIPE_STATE', `pipe entity ${entity.id} has no pipe object`);
      }
      const list = byObject.get(entity.object) ?? [];
      list.push(entity);
      byObject.set(entity.object, list);
    }
    for (const [objectId, ends] of byObject) restorePipe(objectId, ends, ctx);
  }

  describe(entity: EntityRecord, object: ObjectRecord | undefined): string {
    const state = object?.state as Partial<PipeObjectState> | undefined;
    const mode = entity.flags & O_ACCMODE;
    const end = mode === O_RDONLY ? 'read end' : mode === O_WRONLY ? 'write end' : 'read/write';
    const where = state?.path === undefined ? `pipe:[${state?.ino ?? '?'}]` : Buffer.from(state.path).toString('utf8');
    return `${where} ${end}, ${state?.bytes ?? 0} bytes pending, capacity ${state?.capacity ?? '?'}`;
  }

  private checkpointPipe(ends: OpenFile[], ctx: CheckpointContext, scratch: ScratchPipe): void {
    const first = ends[0] as OpenFile;
    const anonymous = isAnonymousLink(first.link);
    const capacity = linux.getPipeSize(first.localFd);
    // Packet mode is a property of the writes; any end opened with O_DIRECT marks the pipe.
    const packet = ends.some((f) => (f.info.flags & O_DIRECT) !== 0);
    const state: PipeObjectState = { ino: Number(first.stat.ino), capacity, bytes: 0 };
    if (!anonymous) {
      const { path, deleted } = fifoPath(first.link);
      state.path = path;
      if (deleted) state.deleted = true;
    }
    const stream = ctx.newStream();
    state.bytes = capturePipeData(
      ends,
      capacity,
      packet,
      (chunk) => ctx.writeData(stream, chunk, packet),
      scratch,
    );
    if (state.bytes > 0) state.stream = stream;
    if (packet) state.packet = true;
    const object = ctx.addObject(anonymous ? 'pipe' : 'fifo', state as unknown as Record<string, unknown>);
    for (const end of ends) {
      ctx.addEntity(end, { kind: anonymous ? 'pipe' : 'fifo', object, state: {} });
    }
  }
}

/** A new pipe plugin instance, ready for `registerPlugin`. */
export function pipePlugin(): PipePlugin {
  return new PipePlugin();
}

