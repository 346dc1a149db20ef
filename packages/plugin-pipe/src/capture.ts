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
 * in bounded chunks through `sink`. With `packet`, every read yields one packet.
 */
export function capturePipeData(
  files: readonly OpenFile[],
  capacity: number,
  packet: boolean,
  sink: (chunk: Buffer) => void,
): number {
  const source = readableFd(files);
  let scratch: [number, number] | undefined;
  try {
    const pending = linux.bytesReadable(source.fd);
    if (pending === 0) return 0;
    scratch = linux.pipe2(O_CLOEXEC | O_NONBLOCK);
    linux.setPipeSize(scratch[1], capacity);
    const copied = linux.tee(source.fd, scratch[1], 0x7fffffff, SPLICE_F_NONBLOCK);
    if (copied !== pending) {
      throw new FdcrError(
        'FDCR_E_DUMP_DATA_CHANGED',
        `cannot copy pending data of ${describe(files[0] as OpenFile)}: tee copied ${copied} of ${pending} bytes`,
        { pid: files[0]?.pid, fd: files[0]?.fd },
      );
    }
    drain(scratch[0], copied, packet, sink);
    return copied;
  } finally {
    if (scratch !== undefined) {
      linux.closeQuietly(scratch[0]);
      linux.closeQuietly(scratch[1]);
    }
    if (source.opened) linux.closeQuietly(source.fd);
  }
}

function drain(fd: number, total: number, packet: boolean, sink: (chunk: Buffer) => void): void {
  let left = total;
  while (left > 0) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, packet ? READ_SIZE : left));
    const got = linux.readAvailable(fd, buffer);
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
