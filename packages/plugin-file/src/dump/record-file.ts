import { statSync } from 'node:fs';
import { FdcrError, linux, type EntityInput, type OpenFile } from '@fdcr/core';
import { memoryDeviceName } from '../devices.js';
import { identityOf, type FileEntityState, type FileKind } from '../file-state.js';
import { hasDeletedMark, showPath } from '../link.js';

const { O_PATH, S_IFCHR, S_IFDIR, S_IFMT, S_IFREG } = linux;

/**
 * Whether an open file has lost its name. The kernel appends ` (deleted)` to the link of an
 * unlinked file, but a file may also be named that way: a link whose text still names the
 * same inode is a live file with an awkward name.
 */
export function isDeleted(file: OpenFile): boolean {
  if (!hasDeletedMark(file.link)) return false;
  if (file.stat.nlink === 0n) return true;
  try {
    const named = statSync(file.link, { bigint: true });
    return named.ino !== file.stat.ino || named.dev !== file.stat.dev;
  } catch {
    return true;
  }
}

/** Which kind of entity an open file becomes. */
export function kindOf(file: OpenFile): FileKind {
  const type = Number(file.stat.mode) & S_IFMT;
  const isPath = (file.info.flags & O_PATH) !== 0;
  if (type === S_IFCHR && !isPath && memoryDeviceName(file.stat.rdev) !== undefined) return 'device';
  if (isDeleted(file)) return deletedKind(file, type);
  if (isPath) return 'path';
  return type === S_IFDIR ? 'directory' : 'file';
}

function deletedKind(file: OpenFile, type: number): FileKind {
  if (type !== S_IFREG) {
    throw new FdcrError(
      'FDCR_E_DUMP_UNSUPPORTED_STATE',
      `cannot checkpoint ${showPath(file.link)} (pid ${file.pid} fd ${file.fd}): only deleted regular files can be saved, this one has mode 0${Number(file.stat.mode).toString(8)}`,
      { pid: file.pid, fd: file.fd },
    );
  }
  return 'deleted';
}

/** The entity of a file that is reopened by path at restore (every kind but `deleted`). */
export function recordPathFile(file: OpenFile, kind: FileKind): EntityInput {
  // The link is kept whole: a live file may really be named `... (deleted)`.
  const state: FileEntityState = { path: file.link, pos: file.info.pos.toString() };
  if (kind === 'device') {
    state.device = memoryDeviceName(file.stat.rdev);
    state.rdev = file.stat.rdev.toString();
  } else {
    // The boot id that makes inode and device comparable is in the image header, once.
    Object.assign(state, identityOf(file.stat));
  }
  return { kind, state: state as unknown as Record<string, unknown> };
}
