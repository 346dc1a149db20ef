import { Decoder, Encoder } from 'cbor-x';
import { FdcrError } from '../errors/fdcr-error.js';

// Every option is set explicitly so that a cbor-x upgrade cannot change the bytes we write:
// plain CBOR maps with text keys, byte strings for binary data, no cbor-x extensions.
const options = {
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  pack: false,
  structuredClone: false,
  bundleStrings: false,
  tagUint8Array: false,
  useTimestamp32: false,
  largeBigIntToFloat: false,
  useBigIntExtension: false,
  useFloat32: 0,
} as const;

const encoder = new Encoder(options as never);
const decoder = new Decoder(options as never);

/** Encodes a record payload as canonical-for-fdcr CBOR. */
export function encodeCbor(value: unknown): Buffer {
  return encoder.encode(value);
}

const MAX_DEPTH = 32;

function corrupt(what: string): FdcrError {
  return new FdcrError('FDCR_E_IMAGE_CORRUPT', `malformed CBOR in image record: ${what}`);
}

/**
 * Walks the CBOR item headers of a payload and checks every length and count against the
 * bytes that remain, before cbor-x allocates anything. Only the subset fdcr writes is
 * accepted: definite lengths, no tags, text map keys other than `__proto__`.
 */
export function checkCborShape(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  // Each stack entry counts the items still expected at one nesting level.
  const stack: number[] = [1];
  const mapKeyLevel: boolean[] = [false];
  const keyParity: number[] = [0];

  while (stack.length > 0) {
    const top = stack.length - 1;
    if (stack[top] === 0) {
      stack.pop();
      mapKeyLevel.pop();
      keyParity.pop();
      continue;
    }
    stack[top] = (stack[top] as number) - 1;
    if (offset >= bytes.length) throw corrupt('unexpected end');

    const isKey = mapKeyLevel[top] === true && (keyParity[top] = (keyParity[top] ?? 0) ^ 1) === 1;
    const initial = bytes[offset++] as number;
    const major = initial >> 5;
    const info = initial & 0x1f;
    let arg: number;
    if (info < 24) arg = info;
    else if (info === 24 && offset + 1 <= bytes.length) arg = view.getUint8(offset), (offset += 1);
    else if (info === 25 && offset + 2 <= bytes.length) arg = view.getUint16(offset), (offset += 2);
    else if (info === 26 && offset + 4 <= bytes.length) arg = view.getUint32(offset), (offset += 4);
    else if (info === 27 && offset + 8 <= bytes.length) {
      const big = view.getBigUint64(offset);
      offset += 8;
      arg = big > BigInt(bytes.length) ? Number.MAX_SAFE_INTEGER : Number(big);
    } else throw corrupt(`unsupported item header 0x${initial.toString(16)}`);

    if (isKey && major !== 3) throw corrupt('map key is not text');
    const remaining = bytes.length - offset;
    if (major === 2 || major === 3) {
      if (arg > remaining) throw corrupt(`string of ${arg} bytes exceeds the record`);
      if (isKey && arg === 9 && Buffer.from(bytes.subarray(offset, offset + 9)).toString() === '__proto__') {
        throw corrupt('forbidden map key __proto__');
      }
      offset += arg;
    } else if (major === 4 || major === 5) {
      const items = major === 5 ? arg * 2 : arg;
      if (items > remaining) throw corrupt(`container of ${arg} items exceeds the record`);
      if (stack.length >= MAX_DEPTH) throw corrupt('nesting too deep');
      stack.push(items);
      mapKeyLevel.push(major === 5);
      keyParity.push(0);
    } else if (major === 6) {
      throw corrupt('tags are not used by fdcr');
    } else if (major === 7 && info === 24 && arg < 32) {
      throw corrupt('invalid simple value');
    }
  }
  if (offset !== bytes.length) throw corrupt(`${bytes.length - offset} trailing bytes`);
}

/** Decodes a record payload after checking its shape. */
export function decodeCbor(bytes: Uint8Array): unknown {
  checkCborShape(bytes);
  try {
    return decoder.decode(bytes);
  } catch (error) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `malformed CBOR in image record: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
