import { describe, expect, it } from 'vitest';
import { parseDeletedState, parseEntityState } from './file-state.js';

const path = Buffer.from('/tmp/a');

describe('parseEntityState', () => {
  it('accepts a complete record and a device record', () => {
    const state = { path, pos: '3', mode: 0o100644, size: 9, ino: '1', dev: '2', mtimeNs: '3', boot: 'x' };
    expect(parseEntityState(state)).toBe(state);
    expect(parseEntityState({ path: Buffer.from('/dev/null'), pos: '0', device: 'null', rdev: '259' })).toBeDefined();
  });

  it('rejects a text or relative path and an offset that is not a decimal string', () => {
    expect(parseEntityState({ path: '/tmp/a', pos: '0' })).toBeUndefined();
    expect(parseEntityState({ path: Buffer.from('tmp/a'), pos: '0' })).toBeUndefined();
    expect(parseEntityState({ path, pos: '-1' })).toBeUndefined();
    expect(parseEntityState({ path, pos: 1 })).toBeUndefined();
  });
});

describe('parseDeletedState', () => {
  it('requires a stream when there is data', () => {
    expect(parseDeletedState({ path, mode: 0o100600, size: 10, bytes: 0 })).toBeDefined();
    expect(parseDeletedState({ path, mode: 0o100600, size: 10, bytes: 4 })).toBeUndefined();
    expect(parseDeletedState({ path, mode: 0o100600, size: 10, bytes: 4, stream: 1 })).toBeDefined();
  });
});
