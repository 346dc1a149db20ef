import type { DependencyContainer } from 'tsyringe';
import { FdcrError } from '../errors/fdcr-error.js';
import { ImageReader } from '../image/image-reader.js';
import type { ProgressListener } from '../api/progress.js';
import { recreateEntities } from './recreate.js';
import { startProcesses, waitForExit, type ProcessCommand, type StartedProcess } from './start.js';

/** What to restore and what to run. */
export interface RestoreOptions {
  /** Image path, `-` for standard input, or an open reader. */
  image: string | ImageReader;
  /** Command for each original pid; a process without one re-runs its recorded argv and cwd. */
  commands?: ReadonlyMap<number, ProcessCommand>;
  pluginOptions?: Readonly<Record<string, unknown>>;
  /** Called as data is read back and open files are recreated; not called at all when absent. */
  onProgress?: ProgressListener;
}

/** Restored processes that are running. */
export interface RestoredRun {
  processes: StartedProcess[];
  /** Resolves with each process's exit status, in image order. */
  wait(): Promise<number[]>;
}

/** Opens an image given by path or reader; the returned `done` closes it if we opened it. */
export function openImage(image: string | ImageReader): { reader: ImageReader; done: () => void } {
  if (image instanceof ImageReader) return { reader: image, done: () => undefined };
  const reader = ImageReader.open(image);
  return { reader, done: () => reader.close() };
}

/**
 * Restores an image into new processes. The image is validated whole before anything is
 * created; entities are recreated through their plugins; each process is started with
 * exactly its descriptors, and fdcr then closes its own copies so that end-of-file and
 * broken-pipe semantics match the original. All or nothing: on failure no process is left.
 */
export async function restore(container: DependencyContainer, options: RestoreOptions): Promise<RestoredRun> {
  const { reader, done } = openImage(options.image);
  try {
    const { contents } = reader;
    if (contents.processes.length === 0) {
      throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${reader.name} holds no process to restore`);
    }
    const known = new Set(contents.processes.map((p) => p.pid));
    for (const pid of options.commands?.keys() ?? []) {
      if (!known.has(pid)) {
        throw new FdcrError('FDCR_E_ARG_INVALID', `a command was given for process ${pid}, which the image does not hold`, {
          pid,
          hint: `the image holds processes ${[...known].join(', ')} (see \`fdcr show\`)`,
        });
      }
    }
    const files = await recreateEntities(container, reader, {
      pluginOptions: options.pluginOptions,
      onProgress: options.onProgress,
    });
    let processes: StartedProcess[];
    try {
      processes = startProcesses(contents, files, options.commands ?? new Map());
    } finally {
      files.close();
    }
    return { processes, wait: () => Promise.all(processes.map((p) => waitForExit(p.child))) };
  } finally {
    done();
  }
}
