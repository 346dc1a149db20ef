import { describe, expect, it } from 'vitest';
import { FdcrError, isFdcrError } from './fdcr-error.js';

describe('FdcrError', () => {
  it('carries its code, the ids it was given and its cause', () => {
    const cause = new Error('EPERM');
    const error = new FdcrError('FDCR_E_SYSCALL', 'cannot set pipe capacity (pid 7, fd 5): EPERM', {
      pid: 7,
      fd: 5,
      errno: 'EPERM',
      syscall: 'fcntl',
      hint: 'run as root',
      cause,
    });

    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'FdcrError',
      code: 'FDCR_E_SYSCALL',
      pid: 7,
      fd: 5,
      errno: 'EPERM',
      syscall: 'fcntl',
      hint: 'run as root',
      cause,
    });
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new FdcrError('FDCR_E_INTERNAL', 'invariant failed')).toBe(false);
  });
});

describe('isFdcrError', () => {
  it('recognises an FdcrError, optionally of one code', () => {
    const error = new FdcrError('FDCR_E_IMAGE_EMPTY', 'image x is empty');

    expect(isFdcrError(error)).toBe(true);
    expect(isFdcrError(error, 'FDCR_E_IMAGE_EMPTY')).toBe(true);
    expect(isFdcrError(error, 'FDCR_E_IMAGE_MAGIC')).toBe(false);
    expect(isFdcrError(new Error('plain'))).toBe(false);
    expect(isFdcrError({ code: 'FDCR_E_IMAGE_EMPTY' })).toBe(false);
  });
});
