import type { DependencyContainer } from 'tsyringe';
import { FdcrError } from '../errors/fdcr-error.js';
import type { ImageReader } from '../image/image-reader.js';
import { F_DUPFD_CLOEXEC } from '../linux/constants.js';
import { closeQuietly, dup3, fcntl, isOpen } from '../linux/syscalls.js';
import { EXTERNAL_PLUGIN } from '../model/records.js';
import { openImage } from './restore.js';
import { recreateEntities, type RecreatedFiles } from './recreate.js';

/** Where to put one restored descriptor in the calling process. */
export interface Placement {
  /** The original descriptor number (of `pid`, or of the image's only process). */
  from: number;
  /** The descriptor number to install it at in this process. */
  to: number;
}

/**
 * Restores descriptors of an image into the calling process at chosen numbers, with
 * FD_CLOEXEC as recorded and sharing preserved. Target numbers must be free. All or nothing.
 */
export async function restoreInto(
  container: DependencyContainer,
  image: string | ImageReader,
  placements: readonly Placement[],
  pid?: number,
): Promise<void> {
  const { reader, done } = openImage(image);
  try {
    const { contents } = reader;
    const owner = pid ?? contents.processes[0]?.pid;
    const chosen = placements.map((p) => {
      const record = contents.descriptors.find((d) => d.pid === owner && d.fd === p.from);
      if (record === undefined) {
        throw new FdcrError('FDCR_E_ARG_INVALID', `the image holds no fd ${p.from} of process ${owner}`, { fd: p.from });
      }
      if (contents.entities.find((e) => e.id === record.entity)?.plugin === EXTERNAL_PLUGIN) {
        throw new FdcrError('FDCR_E_ARG_INVALID', `fd ${p.from} of process ${owner} is external and cannot be restored`, { fd: p.from });
      }
      if (isOpen(p.to) || placements.filter((q) => q.to === p.to).length > 1) {
        throw new FdcrError('FDCR_E_RESTORE_FD_BUSY', `fd ${p.to} is already in use in this process`, { fd: p.to });
      }
      return { ...p, record };
    });
    const only = new Set(chosen.map((c) => c.record.entity));
    const files = await recreateEntities(container, reader, { only });
    try {
      install(chosen, files);
    } finally {
      files.close();
    }
  } finally {
    done();
  }
}

function install(
  chosen: ReadonlyArray<Placement & { record: { entity: number; cloexec: boolean } }>,
  files: RecreatedFiles,
): void {
  // The recreated fds took the lowest free numbers, which may be the very targets: move them
  // all above the targets and close the originals before anything is installed, or closing
  // them afterwards would close what was just installed there.
  const floor = chosen.reduce((top, c) => Math.max(top, c.to), 0) + 1;
  const moved = new Map<number, number>();
  const installed: number[] = [];
  try {
    for (const [entity, fd] of files.fds) moved.set(entity, fcntl(fd, F_DUPFD_CLOEXEC, floor));
    files.close();
    for (const c of chosen) {
      dup3(moved.get(c.record.entity) as number, c.to, c.record.cloexec);
      installed.push(c.to);
    }
  } catch (error) {
    for (const fd of installed) closeQuietly(fd);
    throw error;
  } finally {
    for (const fd of moved.values()) closeQuietly(fd);
  }
}
