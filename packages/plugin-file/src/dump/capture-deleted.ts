import { openSync, readSync } from 'node:fs';
import { FdcrError, isFdcrError, linux, type CheckpointContext, type OpenFile } from '@fdcr/core';
import type { DeletedObjectState, Extent } from '../file-state.js';
import { showPath, withoutDeletedMark } from '../link.js';
import { lseek, SEEK_DATA, SEEK_HOLE } from '../sys.js';

const CHUNK = 1024 * 1024;

/**
 * The data extents of a file, holes left out. Asks SEEK_DATA/SEEK_HOLE, which filesystems
 * without hole support answer with one extent covering the whole file.
 */
export function dataExtents(fd: number, size: number): Extent[] {
  const extents: Extent[] = [];
  let offset = 0;
  while (offset < size) {
    let start: number;
    try {
      start = lseek(fd, offset, SEEK_DATA);
    } catch (error) {
      // ENXIO: no data after `offset`, only a trailing hole.
      if (isFdcrError(error) && error.errno === 'ENXIO') break;
      throw error;
    }
    const end = Math.min(lseek(fd, start, SEEK_HOLE), size);
    if (end > start) extents.push({ offset: start, length: end - start });
    offset = end;
  }
  return extents;
}

function tooLarge(file: OpenFile, bytes: number, limit: number): FdcrError {
  return new FdcrError(
    'FDCR_E_FILE_TOO_LARGE',
    `cannot save deleted file ${showPath(withoutDeletedMark(file.link))} (pid ${file.pid} fd ${file.fd}): it holds ${bytes} bytes of data, the limit is ${limit}`,
    { pid: file.pid, fd: file.fd, hint: 'raise the limit with --max-deleted-size SIZE (e.g. 1G)' },
  );
}

/** Receives one chunk of a deleted file's data with its offset in the file. */
type Sink = (chunk: Buffer, offset: number) => void;

function copyExtent(fd: number, extent: Extent, sink: Sink, file: OpenFile): void {
  let done = 0;
  while (done < extent.length) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, extent.length - done));
    const got = readSync(fd, buffer, 0, buffer.length, extent.offset + done);
    if (got === 0) {
      throw new FdcrError('FDCR_E_DUMP_DATA_CHANGED', `deleted file ${showPath(withoutDeletedMark(file.link))} (pid ${file.pid} fd ${file.fd}) shrank while it was copied`, { pid: file.pid, fd: file.fd });
    }
    sink(buffer.subarray(0, got), extent.offset + done);
    done += got;
  }
}

/**
 * Saves the content of a deleted-but-open file as one shared object. It is read through a
 * fresh open file description made from fdcr's duplicate (via /proc/self/fd): seeking with
 * SEEK_DATA on the duplicate itself would move the offset the target shares with it, and the
 * target's own description may be write-only, O_PATH or O_DIRECT.
 */
export function captureDeleted(file: OpenFile, ctx: CheckpointContext, limit: number): number {
  const fd = openSync(`/proc/self/fd/${file.localFd}`, linux.O_RDONLY | linux.O_CLOEXEC);
  try {
    const size = Number(file.stat.size);
    const extents = dataExtents(fd, size);
    const bytes = extents.reduce((sum, e) => sum + e.length, 0);
    if (bytes > limit) throw tooLarge(file, bytes, limit);
    const path = withoutDeletedMark(file.link);
    const state: DeletedObjectState = { path, mode: Number(file.stat.mode), size, bytes };
    if (bytes > 0) state.stream = ctx.newStream();
    const sink: Sink = (chunk, offset) => ctx.writeData(state.stream as number, chunk, false, offset);
    for (const extent of extents) copyExtent(fd, extent, sink, file);
    return ctx.addObject('deleted', state as unknown as Record<string, unknown>);
  } finally {
    linux.closeQuietly(fd);
  }
}
