import { describe, expect, it } from 'vitest';
import { hasDeletedMark, isInternalFile, isPathLink, parentOf, withoutDeletedMark } from './link.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('withoutDeletedMark', () => {
  it('strips the mark the kernel appends to unlinked files', () => {
    expect(hasDeletedMark(b('/tmp/x (deleted)'))).toBe(true);
    expect(withoutDeletedMark(b('/tmp/x (deleted)'))).toEqual(b('/tmp/x'));
  });

  it('leaves other links, including invalid UTF-8, byte for byte', () => {
    const odd = Buffer.concat([b('/tmp/\xff\n"a b')]);
    expect(withoutDeletedMark(odd)).toEqual(odd);
    expect(hasDeletedMark(b(' (deleted)'))).toBe(false);
  });
});

describe('isPathLink', () => {
  it('tells paths from pseudo files', () => {
    expect(isPathLink(b('/dev/null'))).toBe(true);
    expect(isPathLink(b('pipe:[123]'))).toBe(false);
    expect(isPathLink(b('anon_inode:[eventfd]'))).toBe(false);
  });
});

describe('isInternalFile', () => {
  it('recognises memfd and SysV shared memory files', () => {
    expect(isInternalFile(b('/memfd:buf (deleted)'))).toBe(true);
    expect(isInternalFile(b('/SYSV00000000 (deleted)'))).toBe(true);
    expect(isInternalFile(b('/memfd:buf'))).toBe(false);
  });
});

describe('parentOf', () => {
  it('gives the directory of an absolute path', () => {
    expect(parentOf(b('/a/b/c'))).toEqual(b('/a/b'));
    expect(parentOf(b('/c'))).toEqual(b('/'));
  });
});
