import { describe, expect, it } from 'vitest';
import { linux } from '@fdcr/core';
import { canRead, describeFlags, isAppendOnly, lateFlags, reopenFlags } from './flags.js';

const {
  O_APPEND, O_ASYNC, O_CREAT, O_DIRECT, O_DIRECTORY, O_DSYNC, O_EXCL, O_LARGEFILE, O_NOATIME,
  O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY,
} = linux;

describe('reopenFlags', () => {
  it('keeps the access mode and every status flag open(2) takes again', () => {
    const flags = O_RDWR | O_APPEND | O_NONBLOCK | O_NOATIME | O_DIRECT | O_SYNC | O_LARGEFILE;
    expect(reopenFlags(flags)).toBe(flags);
    expect(reopenFlags(O_WRONLY | O_DSYNC)).toBe(O_WRONLY | O_DSYNC);
  });

  it('never passes O_CREAT, O_EXCL or O_TRUNC', () => {
    expect(reopenFlags(O_WRONLY | O_CREAT | O_EXCL | O_TRUNC)).toBe(O_WRONLY);
  });

  it('leaves O_ASYNC to F_SETFL, which is the only way to set it', () => {
    expect(reopenFlags(O_RDONLY | O_ASYNC)).toBe(O_RDONLY);
    expect(lateFlags(O_RDONLY | O_ASYNC)).toBe(O_ASYNC);
  });

  it('keeps only the flags O_PATH honours', () => {
    expect(reopenFlags(O_PATH | O_NOFOLLOW | O_DIRECTORY | O_NONBLOCK)).toBe(
      O_PATH | O_NOFOLLOW | O_DIRECTORY,
    );
    expect(lateFlags(O_PATH | O_ASYNC)).toBe(0);
  });
});

describe('isAppendOnly', () => {
  it('is true only for write-only appending descriptors', () => {
    expect(isAppendOnly(O_WRONLY | O_APPEND)).toBe(true);
    expect(isAppendOnly(O_RDWR | O_APPEND)).toBe(false);
    expect(isAppendOnly(O_WRONLY)).toBe(false);
  });
});

describe('canRead', () => {
  it('is false for write-only and O_PATH descriptors', () => {
    expect(canRead(O_RDONLY)).toBe(true);
    expect(canRead(O_RDWR)).toBe(true);
    expect(canRead(O_WRONLY)).toBe(false);
    expect(canRead(O_PATH)).toBe(false);
  });
});

describe('describeFlags', () => {
  it('names the access mode and the status flags, O_SYNC once', () => {
    expect(describeFlags(O_WRONLY | O_APPEND | O_SYNC)).toBe('w,append,sync');
    expect(describeFlags(O_RDWR | O_DSYNC | O_NONBLOCK)).toBe('rw,nonblock,dsync');
    expect(describeFlags(O_PATH)).toBe('r,path');
  });
});
