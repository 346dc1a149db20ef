import { describe, expect, it } from 'vitest';
import { O_APPEND, O_DSYNC, O_NONBLOCK, O_RDWR, O_SYNC, O_WRONLY } from '../linux/constants.js';
import { accessMode, statusFlagNames } from './file-type.js';

describe('statusFlagNames', () => {
  it('names the status flags set, in open(2) order', () => {
    expect(statusFlagNames(O_WRONLY | O_NONBLOCK | O_APPEND)).toEqual(['O_APPEND', 'O_NONBLOCK']);
  });

  it('reports O_SYNC alone rather than also the O_DSYNC bit it contains', () => {
    expect(statusFlagNames(O_SYNC)).toEqual(['O_SYNC']);
    expect(statusFlagNames(O_DSYNC)).toEqual(['O_DSYNC']);
  });
});

describe('accessMode', () => {
  it('reads the access mode of f_flags', () => {
    expect([accessMode(0), accessMode(O_WRONLY), accessMode(O_RDWR | O_APPEND)]).toEqual(['r', 'w', 'rw']);
  });
});
