import { linux, PLUGIN_API_VERSION } from '@fdcr/core';
import type {
  CheckpointContext,
  EntityRecord,
  FdPlugin,
  FdProbe,
  ObjectRecord,
  OpenFile,
  PluginMeta,
  RestoreContext,
} from '@fdcr/core';
import { memoryDeviceName } from './devices.js';
import { captureDeleted } from './dump/capture-deleted.js';
import { kindOf, recordPathFile } from './dump/record-file.js';
import type { DeletedObjectState, FileEntityState } from './file-state.js';
import { describeFlags } from './flags.js';
import { isInternalFile, isPathLink, showPath, withoutDeletedMark } from './link.js';
import { parseFileOptions } from './options.js';
import { openBase } from './restore/open-path.js';
import { reopenEntity, type ReopenEnv } from './restore/reopen-file.js';
import { restoreDeleted } from './restore/restore-deleted.js';

const { O_PATH, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG } = linux;

/** Metadata of the file plugin. */
export const filePluginMeta: PluginMeta = {
  name: 'file',
  version: '0.1.0',
  apiVersion: PLUGIN_API_VERSION,
  stateVersion: 1,
  description: 'Files reopened by path: regular files, directories, O_PATH fds, deleted files, memory devices',
};

/**
 * Checkpoints and restores files that are reopened by path. Each open file description is
 * an entity; a deleted-but-open file's content is one shared object, so that independent
 * opens of it get one inode back.
 *
 * Errors: FDCR_E_FILE_TOO_LARGE at checkpoint; FDCR_E_FILE_CHANGED, FDCR_E_FILE_MISSING,
 * FDCR_E_FILE_OUTSIDE_ROOT, FDCR_E_FILE_REOPEN and FDCR_E_FILE_STATE at restore.
 */
export class FilePlugin implements FdPlugin {
  readonly meta = filePluginMeta;

  claims(probe: FdProbe): boolean {
    // Files without a path (memfd, SysV shm) and pseudo files (pipe:, socket:) are not ours.
    if (!isPathLink(probe.link) || isInternalFile(probe.link)) return false;
    if ((probe.info.flags & O_PATH) !== 0) return true;
    const type = Number(probe.stat.mode) & S_IFMT;
    if (type === S_IFCHR) return memoryDeviceName(probe.stat.rdev) !== undefined;
    return type === S_IFREG || type === S_IFDIR;
  }

  checkpoint(files: readonly OpenFile[], ctx: CheckpointContext): void {
    const { maxDeletedBytes } = parseFileOptions(ctx.options);
    const deleted = new Map<string, OpenFile[]>();
    for (const file of files) {
      const kind = kindOf(file);
      if (kind !== 'deleted') {
        ctx.addEntity(file, recordPathFile(file, kind));
        continue;
      }
      const key = `${file.stat.dev}:${file.stat.ino}`;
      deleted.set(key, [...(deleted.get(key) ?? []), file]);
    }
    for (const opens of deleted.values()) this.checkpointDeleted(opens, ctx, maxDeletedBytes);
  }

  restore(entities: readonly EntityRecord[], ctx: RestoreContext): void {
    const options = parseFileOptions(ctx.options);
    const base = openBase(options.root);
    try {
      const env: ReopenEnv = { base, allowChanged: options.allowChanged, boot: ctx.header.boot };
      const deleted = new Map<number, EntityRecord[]>();
      for (const entity of entities) {
        if (entity.kind !== 'deleted') ctx.provide(entity.id, reopenEntity(entity, env));
        else deleted.set(entity.object ?? -1, [...(deleted.get(entity.object ?? -1) ?? []), entity]);
      }
      for (const [objectId, opens] of deleted) restoreDeleted(objectId, opens, ctx, base);
    } finally {
      linux.closeQuietly(base.rootFd);
    }
  }

  /** One content object for the inode, then an entity for each open file description of it. */
  private checkpointDeleted(opens: readonly OpenFile[], ctx: CheckpointContext, limit: number): void {
    const object = captureDeleted(opens[0] as OpenFile, ctx, limit);
    for (const file of opens) {
      const state = { path: withoutDeletedMark(file.link), pos: file.info.pos.toString() };
      ctx.addEntity(file, { kind: 'deleted', object, state });
    }
  }

  describe(entity: EntityRecord, object: ObjectRecord | undefined): string {
    const state = entity.state as Partial<FileEntityState>;
    const path = state.path instanceof Uint8Array ? showPath(state.path) : '(no path)';
    const flags = describeFlags(entity.flags);
    if (entity.kind === 'device') return `device /dev/${state.device ?? '?'} ${flags}`;
    if (entity.kind === 'deleted') {
      const content = object?.state as Partial<DeletedObjectState> | undefined;
      const size = `size ${content?.size ?? '?'}, ${content?.bytes ?? '?'} bytes of data`;
      return `deleted file ${path} ${flags} at offset ${state.pos ?? '?'}, ${size}`;
    }
    const type = (Number(state.mode ?? 0) & S_IFMT) === S_IFDIR ? 'directory' : entity.kind;
    return `${type} ${path} ${flags} at offset ${state.pos ?? '?'}, size ${state.size ?? '?'}`;
  }
}

/** A new file plugin instance, ready for `registerPlugin`. */
export function filePlugin(): FilePlugin {
  return new FilePlugin();
}
