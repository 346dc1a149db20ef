import { describe, expect, it } from 'vitest';
import { trackProgress, type Progress } from './progress.js';

describe('trackProgress', () => {
  it('is absent when nobody listens, so callers pay nothing', () => {
    expect(trackProgress('dump', 3, undefined)).toBeUndefined();
  });

  it('reports running totals and a final report marked done', () => {
    const seen: Progress[] = [];
    const tracker = trackProgress('restore', 2, (p) => seen.push(p))!;
    tracker.data(10);
    tracker.files(1);
    tracker.data(5);
    tracker.finish();
    expect(seen.map((p) => [p.phase, p.bytes, p.fds, p.totalFds, p.done])).toEqual([
      ['restore', 10, 0, 2, false],
      ['restore', 10, 1, 2, false],
      ['restore', 15, 1, 2, false],
      ['restore', 15, 1, 2, true],
    ]);
  });
});
