import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DELETED_BYTES, parseFileOptions, parseSize } from './options.js';

describe('parseFileOptions', () => {
  it('has safe defaults', () => {
    expect(parseFileOptions({})).toEqual({
      allowChanged: false,
      maxDeletedBytes: DEFAULT_MAX_DELETED_BYTES,
      root: undefined,
    });
  });

  it('resolves the root to an absolute path', () => {
    expect(parseFileOptions({ root: '/srv/copy/', allowChanged: true }).root).toBe('/srv/copy');
  });

  it('rejects bad values and echoes them', () => {
    expect(() => parseFileOptions({ maxDeletedBytes: -1 })).toThrow(/maxDeletedBytes: -1/);
    expect(() => parseFileOptions({ allowChanged: 'yes' })).toThrow(/allowChanged: "yes"/);
    expect(() => parseFileOptions({ root: '' })).toThrow(/root: ""/);
  });
});

describe('parseSize', () => {
  it('reads bytes and binary units', () => {
    expect(parseSize('1000')).toBe(1000);
    expect(parseSize('64M')).toBe(64 * 1024 * 1024);
    expect(parseSize('2KiB')).toBe(2048);
    expect(parseSize('1g')).toBe(1024 ** 3);
  });

  it('rejects anything else', () => {
    expect(parseSize('-1')).toBeUndefined();
    expect(parseSize('1.5M')).toBeUndefined();
    expect(parseSize('M')).toBeUndefined();
  });
});
