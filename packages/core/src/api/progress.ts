/** A progress report of a running checkpoint or restore. */
export interface Progress {
  phase: 'dump' | 'restore';
  /** Data bytes copied so far (pending pipe and socket data). */
  bytes: number;
  /** Descriptors (dump) or open files (restore) handled so far. */
  fds: number;
  /** How many there are in all. */
  totalFds: number;
  /** Milliseconds since the operation started. */
  elapsedMs: number;
  /** True on the last report, sent once when the operation has finished. */
  done: boolean;
}

/** Receives progress reports; called often (per data chunk), so keep it cheap. */
export type ProgressListener = (progress: Progress) => void;

/** Counts work and reports it; absent (undefined) when nobody listens, so it costs nothing. */
export interface ProgressTracker {
  data(bytes: number): void;
  files(count: number): void;
  finish(): void;
}

/** A tracker for `listener`, or undefined when there is none. */
export function trackProgress(phase: Progress['phase'], totalFds: number, listener: ProgressListener | undefined): ProgressTracker | undefined {
  if (listener === undefined) return undefined;

  const started = performance.now();
  let bytes = 0;
  let fds = 0;
  const report = (done: boolean): void =>
    listener({ phase, bytes, fds, totalFds, elapsedMs: performance.now() - started, done });
  return {
    data: (n) => {
      bytes += n;
      report(false);
    },
    files: (n) => {
      fds += n;
      report(false);
    },
    finish: () => report(true),
  };
}
