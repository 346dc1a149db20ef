import { describe, expect, it } from 'vitest';
import { isFdcrError } from '@fdcr/core';
import { buildUnixDiagRequest, parseUnixDiagReplies, SOCK_DIAG_BY_FAMILY } from './unix-diag.js';

function nlmsg(type: number, payload: Buffer): Buffer {
  const length = 16 + payload.length;
  const message = Buffer.alloc((length + 3) & ~3);
  message.writeUInt32LE(length, 0);
  message.writeUInt16LE(type, 4);
  payload.copy(message, 16);
  return message;
}

function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc((4 + value.length + 3) & ~3);
  out.writeUInt16LE(4 + value.length, 0);
  out.writeUInt16LE(type, 2);
  value.copy(out, 4);
  return out;
}

function u32s(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32LE(v, i * 4));
  return b;
}

function diagMessage(type: number, state: number, ino: number, ...attrs: Buffer[]): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt8(1, 0);
  head.writeUInt8(type, 1);
  head.writeUInt8(state, 2);
  head.writeUInt32LE(ino, 4);
  return nlmsg(SOCK_DIAG_BY_FAMILY, Buffer.concat([head, ...attrs]));
}

describe('buildUnixDiagRequest', () => {
  it('builds a dump request for every unix socket in every state', () => {
    expect(buildUnixDiagRequest(0x15, 7).toString('hex')).toBe(
      '28000000' + '1400' + '0103' + '07000000' + '00000000' +
        '01' + '00' + '0000' + 'ffffffff' + '00000000' + '15000000' + 'ffffffff' + 'ffffffff',
    );
  });

  it('builds an exact lookup of one inode without NLM_F_DUMP', () => {
    const request = buildUnixDiagRequest(0x4, 1, 0x1234);
    expect(request.readUInt16LE(6)).toBe(1);
    expect(request.readUInt32LE(24)).toBe(0x1234);
  });
});

describe('parseUnixDiagReplies', () => {
  it('reads peer, queue lengths, shutdown bits and name of each socket', () => {
    const reply = Buffer.concat([
      diagMessage(
        1, 1, 100,
        attribute(2, u32s(101)),
        attribute(4, u32s(3, 0)),
        attribute(6, Buffer.from([2])),
      ),
      diagMessage(5, 10, 200, attribute(0, Buffer.from('/run/x.sock'))),
      nlmsg(3, u32s(0)),
    ]);
    const batch = parseUnixDiagReplies(reply);
    expect(batch.done).toBe(true);
    expect(batch.sockets).toEqual([
      { ino: 100, type: 1, state: 1, peer: 101, rqueue: 3, wqueue: 0, shutdown: 2 },
      { ino: 200, type: 5, state: 10, name: Buffer.from('/run/x.sock') },
    ]);
  });

  it('keeps reading until NLMSG_DONE', () => {
    expect(parseUnixDiagReplies(diagMessage(2, 1, 5)).done).toBe(false);
  });

  it('turns NLMSG_ERROR into FDCR_E_SOCKETPAIR_DIAG with the errno name', () => {
    const reply = nlmsg(2, Buffer.from([0xea, 0xff, 0xff, 0xff]));
    expect(() => parseUnixDiagReplies(reply)).toThrow(/EINVAL/);
    try {
      parseUnixDiagReplies(reply);
    } catch (error) {
      expect(isFdcrError(error, 'FDCR_E_SOCKETPAIR_DIAG')).toBe(true);
    }
  });

  it('refuses an attribute that runs past its message', () => {
    const bad = diagMessage(1, 1, 9, attribute(2, u32s(1)));
    bad.writeUInt16LE(200, 32);
    expect(() => parseUnixDiagReplies(bad)).toThrow(/malformed sock_diag reply/);
  });
});
