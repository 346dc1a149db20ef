import { openSync } from 'node:fs';
import { FdcrError, linux, type OpenFile } from '@fdcr/core';

const { O_ACCMODE, O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY, SPLICE_F_NONBLOCK } = linux;

const READ_SIZE = 256 * 1024;

/** A descriptor that can read the pipe without changing what its owners see. */
function readableFd(files: readonly OpenFile[]): { fd: number; opened: boolean } {
  const reader = files.find((f) => (f.info.flags & O_ACCMODE) !== O_WRONLY);
  if (reader !== undefined) return { fd: reader.localFd, opened: false };
  // No target holds a read end: open our own read end of the same pipe through /proc.
  // O_NONBLOCK keeps the open from waiting for a writer, as for a FIFO.
  const anyEnd = files[0] as OpenFile;
  const fd = openSync(`/proc/self/fd/${anyEnd.localFd}`, O_RDONLY | O_NONBLOCK);
  return { fd, opened: true };
}

/**
 * Copies the pending bytes of a pipe without consuming them: tee() duplicates the pipe's
 * buffers into a private pipe of the same capacity in one call (a second tee would copy the
 * same bytes again, since tee always starts at the head), then the private pipe is drained
 * in bounded chunks through `sink`. With `packet`, every read yields one packet. Pass a
 * `shared` scratch pipe to reuse one across many pipes; otherwise one is made and closed.
 */
export function capturePipeData(
  files: readonly OpenFile[],
  capacity: number,
  packet: boolean,
  sink: (chunk: Buffer) => void,
  shared?: ScratchPipe,
): number {
  const source = readableFd(files);
  const scratch = shared ?? new ScratchPipe();
  try {
    const pending = linux.bytesReadable(source.fd);
    if (pending === 0) return 0;
    const copied = linux.tee(source.fd, scratch.fit(capacity), 0x7fffffff, SPLICE_F_NONBLOCK);
    if (copied !== pending) {
      throw new FdcrError(
        'FDCR_E_DUMP_DATA_CHANGED',
        `cannot copy pending data of ${describe(files[0] as OpenFile)}: tee copied ${copied} of ${pending} bytes`,
        { pid: files[0]?.pid, fd: files[0]?.fd },
      );
    }
    drain(scratch, copied, packet, sink);
    return copied;
  } finally {
    if (shared === undefined) scratch.close();
    if (source.opened) linux.closeQuietly(source.fd);
  }
}

/**
 * One private pipe reused for every pipe of a checkpoint: creating, sizing and closing a
 * pipe per captured pipe cost more than the copy itself for small pipes. It is empty between
 * captures (each is drained whole) and only ever grows to the largest capacity seen.
 */
export class ScratchPipe {
  private fds: [number, number] | undefined;
  private capacity = 0;
  /** Read buffer, reused: sinks copy chunks before they return (CheckpointContext.writeData). */
  readonly buffer = Buffer.allocUnsafe(READ_SIZE);

  /** The write end, with room for `capacity` bytes. */
  fit(capacity: number): number {
    this.fds ??= linux.pipe2(O_CLOEXEC | O_NONBLOCK);
    if (this.capacity < capacity) this.capacity = linux.setPipeSize(this.fds[1], capacity);
    return this.fds[1];
  }

  /** The read end (after `fit`). */
  get reader(): number {
    return (this.fds as [number, number])[0];
  }

  close(): void {
    linux.closeQuietly(this.fds?.[0]);
    linux.closeQuietly(this.fds?.[1]);
    this.fds = undefined;
  }
}

function drain(scratch: ScratchPipe, total: number, packet: boolean, sink: (chunk: Buffer) => void): void {
  let left = total;
  while (left > 0) {
    const buffer = scratch.buffer.subarray(0, Math.min(READ_SIZE, packet ? READ_SIZE : left));
    const got = linux.readAvailable(scratch.reader, buffer);
    if (got === 0) {
      throw new FdcrError('FDCR_E_INTERNAL', `private pipe ran dry with ${left} bytes still expected`);
    }
    sink(buffer.subarray(0, got));
    left -= got;
  }
}

/** `pipe:[123] (pid 5 fd 3)`, for messages. */
export function describe(file: OpenFile): string {
  return `${file.link.toString('utf8')} (pid ${file.pid} fd ${file.fd})`;
}
