import { describe, expect, it } from 'vitest';
import { parseControl, rightsControl, SCM_CREDENTIALS, SCM_PIDFD, SCM_RIGHTS } from './control.js';

function cmsg(type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeBigUInt64LE(BigInt(16 + payload.length), 0);
  head.writeInt32LE(1, 8);
  head.writeInt32LE(type, 12);
  const padded = Buffer.alloc((16 + payload.length + 7) & ~7);
  Buffer.concat([head, payload]).copy(padded);
  return padded;
}

function ints(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeInt32LE(v, i * 4));
  return b;
}

describe('parseControl', () => {
  it('finds the descriptors of SCM_RIGHTS after a credentials message', () => {
    const control = Buffer.concat([cmsg(SCM_CREDENTIALS, ints(10, 0, 0)), cmsg(SCM_RIGHTS, ints(7, 8, 9))]);
    expect(parseControl(control, control.length)).toEqual({
      fds: [7, 8, 9],
      passed: [7, 8, 9],
      rights: true,
      credentials: true,
    });
  });

  it('keeps a pidfd apart from the descriptors passed with SCM_RIGHTS', () => {
    const control = Buffer.concat([cmsg(SCM_PIDFD, ints(4)), cmsg(SCM_RIGHTS, ints(6))]);
    expect(parseControl(control, control.length)).toMatchObject({ fds: [4, 6], passed: [6] });
  });

  it('reports nothing for an empty control buffer', () => {
    expect(parseControl(Buffer.alloc(64), 0)).toEqual({
      fds: [],
      passed: [],
      rights: false,
      credentials: false,
    });
  });

  it('stops at a header whose length runs past the buffer', () => {
    const control = cmsg(SCM_RIGHTS, ints(5));
    control.writeBigUInt64LE(1000n, 0);
    expect(parseControl(control, control.length).fds).toEqual([]);
  });
});

describe('rightsControl', () => {
  it('lays out one SCM_RIGHTS header with the fds, padded to 8 bytes', () => {
    expect(rightsControl([5, 9, 12])).toEqual(cmsg(SCM_RIGHTS, ints(5, 9, 12)));
    expect(parseControl(rightsControl([3]), 24).passed).toEqual([3]);
  });
});
