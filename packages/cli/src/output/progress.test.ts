import { describe, expect, it } from 'vitest';
import type { Progress } from '@fdcr/core';
import { progressLine, progressReporter } from './progress.js';

const MiB = 1024 * 1024;
const at = (bytes: number, elapsedMs: number, done = false): Progress => ({ phase: 'dump', bytes, fds: 1, totalFds: 4, elapsedMs, done });

function fakeStream(isTTY: boolean): { isTTY: boolean; text: string; write(t: string): void } {
  return { isTTY, text: '', write(t) { this.text += t; } };
}

describe('progressReporter', () => {
  it('is absent when the stream is not a terminal', () => {
    expect(progressReporter(fakeStream(false))).toBeUndefined();
  });

  it('stays silent for a small, fast run', () => {
    const stream = fakeStream(true);
    const report = progressReporter(stream)!;
    report(at(MiB, 100));
    report(at(2 * MiB, 200, true));
    expect(stream.text).toBe('');
  });

  it('shows bytes, fds and rate once past 64 MiB, and ends the line when done', () => {
    const stream = fakeStream(true);
    let clock = 0;
    const report = progressReporter(stream, undefined, () => clock)!;
    report(at(65 * MiB, 500));
    clock = 50;
    report(at(66 * MiB, 550));
    clock = 200;
    report(at(70 * MiB, 1000, true));
    expect(stream.text).toBe('\r\x1b[Kdump: 65.0 MiB, 1/4 fds, 130.0 MiB/s\r\x1b[Kdump: 70.0 MiB, 1/4 fds, 70.0 MiB/s\n');
  });

  it('shows progress of a slow run after 2 s whatever its size', () => {
    const stream = fakeStream(true);
    progressReporter(stream, undefined, () => 0)!(at(10, 2500));
    expect(stream.text).toContain('dump: 10 B, 1/4 fds');
  });
});

describe('progressLine', () => {
  it('handles a zero elapsed time', () => {
    expect(progressLine(at(0, 0))).toBe('dump: 0 B, 1/4 fds, 0 B/s');
  });
});
