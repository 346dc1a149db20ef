import { describe, expect, it } from 'vitest';
import { painter, useColour } from './style.js';

describe('useColour', () => {
  it('colours only a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(useColour({ isTTY: true, write: () => true }, {})).toBe(true);
    expect(useColour({ isTTY: false, write: () => true }, {})).toBe(false);
    expect(useColour({ write: () => true }, {})).toBe(false);
    expect(useColour({ isTTY: true, write: () => true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true, write: () => true }, { TERM: 'dumb' })).toBe(false);
  });
});

describe('painter', () => {
  it('leaves text alone when colour is off', () => {
    expect(painter({ isTTY: false, write: () => true }, {}).red('x')).toBe('x');
    expect(painter({ isTTY: true, write: () => true }, {}).red('x')).toBe('\x1b[31mx\x1b[0m');
  });
});
