import { describe, expect, it } from 'vitest';
import { checkCborShape, decodeCbor, encodeCbor } from './cbor.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');

/** `depth` nested one-item arrays around the integer 0. */
function nested(depth: number): Buffer {
  return Buffer.concat([Buffer.alloc(depth, 0x81), Buffer.from([0x00])]);
}

function shapeError(bytes: Uint8Array): string {
  try {
    checkCborShape(bytes);
  } catch (error) {
    expect(error).toMatchObject({ code: 'FDCR_E_IMAGE_CORRUPT' });
    return (error as Error).message;
  }
  throw new Error('the payload was accepted');
}

describe('encodeCbor', () => {
  it('writes plain CBOR: text-keyed maps, byte strings, shortest integers', () => {
    expect(encodeCbor({ a: 1, b: Buffer.from('hi') }).toString('hex')).toBe('a2616101616242' + '6869');
    expect(encodeCbor({ n: -1, u: 70000 }).toString('hex')).toBe('a2616e20617' + '51a00011170');
    expect(encodeCbor(new Uint8Array([1, 2])).toString('hex')).toBe('420102');
  });

  it('writes integers from 2^32 up as float64', () => {
    expect(encodeCbor(2 ** 32).toString('hex')).toBe('fb41f0000000000000');
    expect(encodeCbor(2 ** 32 - 1).toString('hex')).toBe('1affffffff');
  });

  it('writes non-integral numbers as float64, never float32', () => {
    expect(encodeCbor(1.5).toString('hex')).toBe('fb3ff8000000000000');
  });
});

describe('checkCborShape', () => {
  it('accepts what encodeCbor writes for records', () => {
    const record = { id: 1, state: { path: Buffer.from('/x'), list: [1, 'a', true, null] }, big: 2 ** 40 };

    expect(() => checkCborShape(encodeCbor(record))).not.toThrow();
  });

  it('accepts 31 nested containers and refuses 32', () => {
    expect(() => checkCborShape(nested(31))).not.toThrow();
    expect(shapeError(nested(32))).toMatch(/nesting too deep/);
  });

  it('refuses indefinite lengths', () => {
    for (const bytes of ['9f ff', 'bf ff', '5f ff', '7f ff']) {
      expect(shapeError(hex(bytes))).toMatch(/unsupported item header/);
    }
  });

  it('refuses reserved additional information values', () => {
    for (const bytes of ['1c', '3d', 'fe']) {
      expect(shapeError(hex(bytes))).toMatch(/unsupported item header/);
    }
  });

  it('refuses map keys that are not text', () => {
    expect(shapeError(hex('a1 01 02'))).toMatch(/map key is not text/);
    expect(shapeError(hex('a1 41 61 02'))).toMatch(/map key is not text/);
    expect(shapeError(hex('a1 a0 02'))).toMatch(/map key is not text/);
  });

  it('refuses __proto__ keys however their length is written', () => {
    expect(shapeError(hex('a1 69 5f5f70726f746f5f5f 01'))).toMatch(/__proto__/);
    expect(shapeError(hex('a1 7809 5f5f70726f746f5f5f 01'))).toMatch(/__proto__/);
  });

  it('accepts __proto__ as a value, where it is only text', () => {
    expect(decodeCbor(hex('a1 61 6b 69 5f5f70726f746f5f5f'))).toEqual({ k: '__proto__' });
  });

  it('refuses two-byte simple values below 32', () => {
    expect(shapeError(hex('f8 10'))).toMatch(/invalid simple value/);
  });

  it('refuses items cut short and bytes after the item', () => {
    expect(shapeError(hex('a2 6161 01 6162'))).toMatch(/unexpected end/);
    expect(shapeError(hex('19 01'))).toMatch(/unsupported item header/);
    expect(shapeError(hex('80 00'))).toMatch(/1 trailing bytes/);
    expect(shapeError(new Uint8Array(0))).toMatch(/unexpected end/);
  });

  it('checks a payload that is a view into a larger buffer by its own bounds', () => {
    const backing = hex('ff 42 0102 ff');

    expect(() => checkCborShape(backing.subarray(1, 4))).not.toThrow();
    expect(shapeError(backing.subarray(1, 3))).toMatch(/exceeds the record/);
  });
});

describe('decodeCbor', () => {
  it('turns a decoder failure into FDCR_E_IMAGE_CORRUPT', () => {
    // A one-byte simple value cbor-x does not support, which the shape check lets through.
    expect(() => decodeCbor(hex('f0'))).toThrow(expect.objectContaining({ code: 'FDCR_E_IMAGE_CORRUPT' }));
  });

  it('decodes byte strings as Buffers and maps as plain objects', () => {
    const value = decodeCbor(hex('a1 61 62 42 0102')) as Record<string, unknown>;

    expect(Buffer.isBuffer(value.b)).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });
});
