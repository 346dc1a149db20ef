import { fchmodSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { FdcrError, isFdcrError, linux, type EntityRecord, type RestoreContext } from '@fdcr/core';
import { parseDeletedState, parseEntityState, type DeletedObjectState } from '../file-state.js';
import { reopenFlags } from '../flags.js';
import { parentOf, showPath } from '../link.js';
import { AT_FDCWD, openat2 } from '../sys.js';
import { openRecorded, type PathBase } from './open-path.js';
import { finishOpen } from './reopen-file.js';

const { O_NOFOLLOW, O_RDWR, O_TMPFILE } = linux;

function stateError(objectId: number, what: string): FdcrError {
  return new FdcrError('FDCR_E_FILE_STATE', `deleted file object ${objectId}: ${what}`);
}

/** Whether an O_TMPFILE failure means "try the next place" rather than a real error. */
function placeUnusable(error: unknown): boolean {
  const errno = isFdcrError(error) ? error.errno : undefined;
  return errno === 'ENOENT' || errno === 'ENOTDIR' || errno === 'EOPNOTSUPP' || errno === 'EISDIR';
}

/**
 * Creates the unlinked file that stands for a deleted one: with O_TMPFILE, in the original
 * directory when it still exists (so it lives on the same filesystem), else in the root, else
 * in the temporary directory. It never gets a name, so nothing is left behind.
 */
function createUnlinked(base: PathBase, state: DeletedObjectState, objectId: number): number {
  const perms = state.mode & 0o7777;
  const what = `deleted file object ${objectId}`;
  const places: Array<() => number> = [
    () => openRecorded(base, parentOf(Buffer.from(state.path)), O_TMPFILE | O_RDWR, perms, what),
    base.rootFd === undefined
      ? () => openat2(AT_FDCWD, Buffer.from(tmpdir()), O_TMPFILE | O_RDWR, perms, 0)
      : () => openRecorded(base, Buffer.from('/'), O_TMPFILE | O_RDWR, perms, what),
  ];
  let last: unknown;
  for (const place of places) {
    try {
      return place();
    } catch (error) {
      if (!placeUnusable(error)) throw error;
      last = error;
    }
  }
  throw last;
}

function writeAll(fd: number, data: Buffer, offset: number): void {
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done);
}

/** Writes the saved extents at their offsets; what lies between stays a hole. */
function fillContent(fd: number, state: DeletedObjectState, objectId: number, ctx: RestoreContext): void {
  let total = 0;
  if (state.stream !== undefined) {
    for (const chunk of ctx.data(state.stream)) {
      if (typeof chunk.extra !== 'number' || chunk.extra < 0) throw stateError(objectId, 'data chunk without an offset');
      writeAll(fd, chunk.data, chunk.extra);
      total += chunk.data.length;
    }
  }
  if (total !== state.bytes) throw stateError(objectId, `data holds ${total} bytes, ${state.bytes} recorded`);
  // ftruncate gives back the trailing hole; fchmod undoes the umask O_TMPFILE applied.
  ftruncateSync(fd, state.size);
  fchmodSync(fd, state.mode & 0o7777);
}

/** Opens one entity on the restored inode: a new open file description with its own flags. */
function openOn(anchor: number, entity: EntityRecord): number {
  const state = parseEntityState(entity.state);
  if (state === undefined) throw new FdcrError('FDCR_E_FILE_STATE', `file entity ${entity.id}: malformed state record`);
  // O_NOFOLLOW would open the /proc magic link itself instead of the file behind it.
  const flags = reopenFlags(entity.flags) & ~O_NOFOLLOW;
  const fd = openat2(AT_FDCWD, Buffer.from(`/proc/self/fd/${anchor}`), flags, 0, 0);
  try {
    finishOpen(fd, entity.flags, state.pos, true);
    return fd;
  } catch (error) {
    linux.closeQuietly(fd);
    throw error;
  }
}

/**
 * Rebuilds one deleted-but-open file: an unlinked file with the same content, holes, size
 * and mode, then one open file description per entity, each handed to the engine.
 * Limitation: the restored file's link reads `#<inode> (deleted)` in its directory, not the
 * original name, and its owner is whoever runs the restore.
 */
export function restoreDeleted(
  objectId: number,
  entities: readonly EntityRecord[],
  ctx: RestoreContext,
  base: PathBase,
): void {
  const record = ctx.objects.get(objectId);
  const state = record === undefined ? undefined : parseDeletedState(record.state);
  if (state === undefined) throw stateError(objectId, 'missing or malformed object record');
  const anchor = createUnlinked(base, state, objectId);
  try {
    fillContent(anchor, state, objectId, ctx);
    for (const entity of entities) ctx.provide(entity.id, openOn(anchor, entity));
  } catch (error) {
    throw isFdcrError(error) ? error : new FdcrError('FDCR_E_FILE_REOPEN', `cannot recreate deleted file ${showPath(state.path)} (object ${objectId}): ${(error as Error).message}`, { cause: error });
  } finally {
    linux.closeQuietly(anchor);
  }
}
