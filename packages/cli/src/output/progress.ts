import type { Progress, ProgressListener } from '@fdcr/core';
import { humanBytes } from './format.js';
import type { OutputStream } from './style.js';

/** When progress becomes worth showing, and how often it is redrawn. */
export interface ProgressThresholds {
  bytes: number;
  ms: number;
  redrawMs: number;
}

/** Progress shows once a run has moved 64 MiB or taken 2 s, redrawn at most 10 times a second. */
export const DEFAULT_THRESHOLDS: ProgressThresholds = { bytes: 64 * 1024 * 1024, ms: 2000, redrawMs: 100 };

/** One status line: `dump: 70.0 MiB, 12/40 fds, 35.0 MiB/s`. */
export function progressLine(p: Progress): string {
  const rate = p.elapsedMs > 0 ? humanBytes(Math.round((p.bytes * 1000) / p.elapsedMs)) : '0 B';
  return `${p.phase}: ${humanBytes(p.bytes)}, ${p.fds}/${p.totalFds} fds, ${rate}/s`;
}

/**
 * A listener that draws progress on `stream`, or undefined when `stream` is not a terminal:
 * progress is for people watching, never for logs or pipes. Small, fast runs show nothing.
 */
export function progressReporter(
  stream: OutputStream,
  thresholds: ProgressThresholds = DEFAULT_THRESHOLDS,
  now: () => number = () => performance.now(),
): ProgressListener | undefined {
  if (stream.isTTY !== true) return undefined;

  let shown = false;
  let lastDraw = -Infinity;
  return (p) => {
    if (p.done) {
      if (shown) stream.write(`\r\x1b[K${progressLine(p)}\n`);
      return;
    }
    if (!shown && p.bytes <= thresholds.bytes && p.elapsedMs <= thresholds.ms) return;
    if (now() - lastDraw < thresholds.redrawMs) return;

    shown = true;
    lastDraw = now();
    stream.write(`\r\x1b[K${progressLine(p)}`);
  };
}
