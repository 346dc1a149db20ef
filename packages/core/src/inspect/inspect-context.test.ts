import { describe, expect, it } from 'vitest';
import { createInspectContext } from './inspect-context.js';

describe('createInspectContext', () => {
  it('computes a cached value once per run and again in a new run', () => {
    let calls = 0;
    const compute = (): number => ++calls;
    const run = createInspectContext();
    expect([run.cached('k', compute), run.cached('k', compute)]).toEqual([1, 1]);
    expect(createInspectContext().cached('k', compute)).toBe(2);
  });

  it('does not cache a failure', () => {
    const run = createInspectContext();
    expect(() => run.cached('k', () => { throw new Error('no diag'); })).toThrow('no diag');
    expect(run.cached('k', () => 7)).toBe(7);
  });
});
