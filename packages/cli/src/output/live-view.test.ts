import { describe, expect, it } from 'vitest';
import { compactBytes, wrap } from './live-view.js';

describe('compactBytes', () => {
  it('keeps narrow columns narrow', () => {
    expect([compactBytes(512), compactBytes(65536), compactBytes(1536 * 1024)]).toEqual(['512', '64K', '1.5M']);
  });
});

describe('wrap', () => {
  it('continues a long list of holders on indented lines within the width', () => {
    const text = wrap('  fd 3 pipe:[1]: ', ['100 sh fd 1 writes', '200 cat fd 0 reads', '300 tee fd 1 writes'], '    ', 40);
    expect(text).toBe('  fd 3 pipe:[1]: 100 sh fd 1 writes;\n    200 cat fd 0 reads;\n    300 tee fd 1 writes');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
  });

  it('keeps a short list on one line', () => {
    expect(wrap('  fd 3 x: ', ['a', 'b'], '    ')).toBe('  fd 3 x: a; b');
  });
});
