import type { DependencyContainer } from 'tsyringe';
import { ImageReader } from '../image/image-reader.js';
import { ImageWriter } from '../image/image-writer.js';
import { checkpoint, type CheckpointSummary } from '../dump/checkpoint.js';
import { dupCloexec, memfdCreate } from '../linux/syscalls.js';
import { closeSync } from 'node:fs';

/** An image held in memory (an anonymous memfd) rather than in a file. */
export class MemoryImage {
  constructor(
    private readonly fd: number,
    readonly summary: CheckpointSummary,
  ) {}

  /** Opens a validating reader on the image; close it when done. */
  reader(): ImageReader {
    return ImageReader.fromFd(dupCloexec(this.fd), 'memory image');
  }

  /** Frees the image. */
  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Checkpoints the files behind chosen descriptors of a process (fdcr's own pid included)
 * into an in-memory image: the pipe checkpoint interface of old, in modern form.
 */
export async function checkpointFds(
  container: DependencyContainer,
  pid: number,
  fds: readonly number[],
): Promise<MemoryImage> {
  const fd = memfdCreate('fdcr-image');
  try {
    const writer = ImageWriter.onFd(fd, 'memory image');
    const summary = await checkpoint(container, {
      pids: [pid],
      fds: { [pid]: fds },
      output: writer,
      freeze: pid !== process.pid,
    });
    writer.finish();
    return new MemoryImage(fd, summary);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
