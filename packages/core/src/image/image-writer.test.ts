import { closeSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FdcrError } from '../errors/fdcr-error.js';
import { dupCloexec, memfdCreate } from '../linux/syscalls.js';
import type {
  DescriptorRecord,
  EntityRecord,
  ImageHeader,
  ObjectRecord,
  ProcessRecord,
} from '../model/records.js';
import { DATA_CHUNK_SIZE, MAX_PAYLOAD, RecordKind } from './format.js';
import { ImageReader } from './image-reader.js';
import { ImageWriter } from './image-writer.js';

// Fixed records: every field of every kind, with values that pin the encodings that matter
// (byte strings, non-UTF-8 bytes, an integer above 2^32, booleans, an empty map).
const header: ImageHeader = {
  format: 1,
  minor: 0,
  fdcr: '0.1.0',
  plugins: { pipe: { version: '0.1.0', state: 1 } },
  kernel: '6.1.0',
  arch: 'x64',
  host: 'golden',
  time: '2024-01-02T03:04:05.000Z',
};
const processRecord: ProcessRecord = {
  pid: 4242,
  ppid: 1,
  comm: 'cat',
  argv: [Buffer.from('cat'), Buffer.from([0xff, 0x2d])],
  cwd: Buffer.from('/tmp'),
};
const objectRecord: ObjectRecord = {
  id: 1,
  plugin: 'pipe',
  kind: 'pipe',
  state: { ino: 2 ** 33, capacity: 65536, bytes: 5, stream: 1 },
};
const entityRecord: EntityRecord = { id: 1, plugin: 'pipe', kind: 'pipe', flags: 0o4001, object: 1, state: {} };
const loneEntity: EntityRecord = { id: 2, plugin: 'external', kind: 'tty', flags: 2, object: undefined, state: {} };
const descriptorRecord: DescriptorRecord = { pid: 4242, fd: 3, cloexec: true, entity: 1 };

// The bytes fdcr format 1.0 gives those records. A change here is a format change: see
// docs/image-format.md before touching one.
//
// Each frame is: u8 kind, u32 LE payload length, the CBOR payload, u32 LE CRC-32 of head and
// payload (parseFrames checks every CRC). A payload is a map under the one-character wire
// keys of wire-keys.ts, in table order: `a6` is a map of 6 pairs, `61 69` the key "i", `64
// 70697065` the text "pipe", `19 0801` the integer 0o4001, `a0` the empty state map. The
// records are split below field by field so that each byte can be traced to its field.
const GOLDEN = {
  prefix: '89464443520d0a1a01000000',
  header:
    '0156000000' + 'a8' + // kind 1, 86 bytes: 8 pairs
    '6166' + '01' + // f (format) 1
    '616d' + '00' + // m (minor) 0
    '6177' + '65302e312e30' + // w (fdcr) "0.1.0"
    '6170' + 'a1' + '6470697065' + 'a2' + '6176' + '65302e312e30' + '6173' + '01' + // p {pipe: {v, s: 1}}
    '616b' + '65362e312e30' + // k (kernel) "6.1.0"
    '6161' + '63783634' + // a (arch) "x64"
    '6168' + '66676f6c64656e' + // h (host) "golden"
    '6174' + '7818323032342d30312d30325430333a30343a30352e3030305a' + // t (time), 24 bytes
    '30720504',
  process:
    '0221000000' + 'a5' + // kind 2, 33 bytes: 5 pairs
    '6170' + '191092' + // p (pid) 4242
    '627070' + '01' + // pp (ppid) 1
    '6163' + '63636174' + // c (comm) "cat"
    '6161' + '82' + '43636174' + '42ff2d' + // a (argv) [b"cat", b"\xff-"]
    '6177' + '442f746d70' + // w (cwd) b"/tmp"
    '3c915c82',
  object:
    '033f000000' + 'a4' + // kind 3, 63 bytes: 4 pairs
    '6169' + '01' + // i (id) 1
    '6170' + '6470697065' + // p (plugin) "pipe"
    '616b' + '6470697065' + // k (kind) "pipe"
    // s (state): the plugin's own keys, not renamed; 2^33 is written as a float64.
    '6173' + 'a4' + '63696e6f' + 'fb4200000000000000' + '6863617061636974791a00010000' +
    '656279746573' + '05' + '6673747265616d' + '01' +
    '39aa9840',
  entity:
    '041d000000' + 'a6' + // kind 4, 29 bytes: 6 pairs
    '6169' + '01' + // i (id) 1
    '6170' + '6470697065' + // p (plugin) "pipe"
    '616b' + '6470697065' + // k (kind) "pipe"
    '6166' + '190801' + // f (flags) 0o4001
    '616f' + '01' + // o (object) 1
    '6173' + 'a0' + // s (state) {}
    'c8037946',
  entityWithoutObject:
    '041b000000' + 'a5' + // kind 4, 27 bytes: 5 pairs, no o
    '6169' + '02' + // i (id) 2
    '6170' + '6865787465726e616c' + // p (plugin) "external"
    '616b' + '63747479' + // k (kind) "tty"
    '6166' + '02' + // f (flags) O_RDWR
    '6173' + 'a0' + // s (state) {}
    '42cfffa9',
  descriptor:
    '050f000000' + 'a4' + // kind 5, 15 bytes: 4 pairs
    '6170' + '191092' + // p (pid) 4242
    '6166' + '03' + // f (fd) 3
    '6163' + 'f5' + // c (cloexec) true
    '6165' + '01' + // e (entity) 1
    '6130af9c',
  data: '060c000000a261730161644568656c6c6f4dde740a',
  message: '0614000000a46173026164420102616df56178a1636664730028a383dd',
  trailer:
    '7f09000000' + 'a2' + // kind 127, 9 bytes: 2 pairs
    '616e' + '08' + // n (frames) 8
    '6162' + '190171' + // b (bytes) 0x0171, the trailer's own offset
    '67428f13',
};

interface ParsedFrame {
  kind: number;
  hex: string;
}

/** Writes records to a fresh memfd and returns the fd with the bytes written. */
function writeImage(write: (writer: ImageWriter) => void): { fd: number; bytes: Buffer } {
  const fd = memfdCreate('fdcr-golden');
  const writer = ImageWriter.onFd(fd, 'golden image');
  write(writer);
  return { fd, bytes: readFileSync(`/proc/self/fd/${fd}`) };
}

function writeGolden(writer: ImageWriter): void {
  writer.writeHeader(header);
  writer.writeProcess(processRecord);
  writer.writeObject(objectRecord);
  writer.writeEntity(entityRecord);
  writer.writeEntity(loneEntity);
  writer.writeDescriptor(descriptorRecord);
  writer.writeData(1, Buffer.from('hello'));
  writer.writeData(2, Buffer.from([1, 2]), true, { fds: 0 });
  writer.finish();
}

/** Splits an image into frames by the rules of the spec, checking each frame's CRC-32. */
function parseFrames(bytes: Buffer): ParsedFrame[] {
  const frames: ParsedFrame[] = [];
  let offset = 12;
  while (offset < bytes.length) {
    const length = bytes.readUInt32LE(offset + 1);
    const end = offset + 5 + length;
    expect(bytes.readUInt32LE(end)).toBe(crc32(bytes.subarray(offset, end)));
    frames.push({ kind: bytes[offset] as number, hex: bytes.subarray(offset, end + 4).toString('hex') });
    offset = end + 4;
  }
  expect(offset).toBe(bytes.length);
  return frames;
}

describe('ImageWriter', () => {
  let golden: { fd: number; bytes: Buffer };

  beforeEach(() => {
    golden = writeImage(writeGolden);
  });

  afterEach(() => {
    closeSync(golden.fd);
  });

  it('starts every image with the magic and version 1.0', () => {
    expect(golden.bytes.subarray(0, 12).toString('hex')).toBe(GOLDEN.prefix);
  });

  it('writes each record kind as the golden bytes', () => {
    const frames = parseFrames(golden.bytes);

    expect(frames.map((f) => f.kind)).toEqual([1, 2, 3, 4, 4, 5, 6, 6, 127]);
    expect(frames.map((f) => f.hex)).toEqual([
      GOLDEN.header,
      GOLDEN.process,
      GOLDEN.object,
      GOLDEN.entity,
      GOLDEN.entityWithoutObject,
      GOLDEN.descriptor,
      GOLDEN.data,
      GOLDEN.message,
      GOLDEN.trailer,
    ]);
  });

  it('gives an entity with an undefined object the bytes of one without the key', () => {
    const { object: _object, ...withoutKey } = loneEntity;
    const image = writeImage((writer) => {
      writer.writeEntity(withoutKey);
      writer.finish();
    });
    closeSync(image.fd);

    expect(parseFrames(image.bytes)[0]?.hex).toBe(GOLDEN.entityWithoutObject);
  });

  it('writes a trailer counting the frames before it and giving its own offset', () => {
    const frames = parseFrames(golden.bytes);
    const before = frames.slice(0, -1);
    const offset = 12 + before.reduce((sum, f) => sum + f.hex.length / 2, 0);

    // The trailer payload is {n: 8, b: 0x0171}: n counts the frames, b is the trailer's offset.
    expect(before).toHaveLength(8);
    expect(offset).toBe(0x171);
    expect(GOLDEN.trailer).toContain('616e08' + '6162190171');
  });

  it('reads the golden image back to the records it was written from', () => {
    const reader = ImageReader.fromFd(dupCloexec(golden.fd), 'golden image');
    try {
      const { object: _object, ...lone } = loneEntity;
      expect(reader.contents).toEqual({
        header,
        processes: [processRecord],
        objects: [objectRecord],
        entities: [entityRecord, lone],
        descriptors: [descriptorRecord],
      });
      expect([...reader.data(1)]).toEqual([{ data: Buffer.from('hello'), message: false, extra: undefined }]);
      expect([...reader.data(2)]).toEqual([{ data: Buffer.from([1, 2]), message: true, extra: { fds: 0 } }]);
      expect(reader.streamSize(1)).toEqual({ chunks: 1, bytes: 5 });
    } finally {
      reader.close();
    }
  });

  it('splits byte-stream data into chunks of DATA_CHUNK_SIZE', () => {
    const data = Buffer.alloc(DATA_CHUNK_SIZE * 2 + 1, 0x5a);
    const image = writeImage((writer) => {
      writer.writeData(7, data);
      writer.finish();
    });
    closeSync(image.fd);
    const frames = parseFrames(image.bytes).filter((f) => f.kind === RecordKind.data);

    expect(frames).toHaveLength(3);
    const sizes = frames.map((f) => f.hex.length / 2 - 9);
    // Each payload is the map {s: 7, d: bytes}: 6 bytes of map, keys and stream id, then the
    // byte string head (5 bytes for 256 KiB, 1 byte for 1 byte) and the chunk.
    expect(sizes).toEqual([6 + 5 + DATA_CHUNK_SIZE, 6 + 5 + DATA_CHUNK_SIZE, 6 + 1 + 1]);
  });

  it('never splits a message, however large', () => {
    const image = writeImage((writer) => {
      writer.writeData(7, Buffer.alloc(DATA_CHUNK_SIZE * 3), true);
      writer.finish();
    });
    closeSync(image.fd);

    expect(parseFrames(image.bytes).map((f) => f.kind)).toEqual([RecordKind.data, RecordKind.trailer]);
  });

  it('refuses a record larger than MAX_PAYLOAD with FDCR_E_IMAGE_TOO_LARGE', () => {
    const fd = memfdCreate('fdcr-too-large');
    try {
      const writer = ImageWriter.onFd(fd, 'big image');

      expect(() => writer.writeData(1, Buffer.alloc(MAX_PAYLOAD), true)).toThrow(
        expect.objectContaining({ code: 'FDCR_E_IMAGE_TOO_LARGE' }),
      );
    } finally {
      closeSync(fd);
    }
  });
});

// Budgets per record, frame included (9 bytes of kind, length and CRC): a checkpoint writes one
// entity per open file description and one descriptor record per fd, so these sizes are what a
// large dump costs beyond its data. The values are near the top of their ranges: ids past
// 65535, the largest pid (pid_max is at most 2^22) and fd (nr_open defaults to 2^20).
describe('ImageWriter record sizes', () => {
  function frameSize(write: (writer: ImageWriter) => void): number {
    const image = writeImage((writer) => {
      write(writer);
      writer.finish();
    });
    closeSync(image.fd);
    return (parseFrames(image.bytes)[0]?.hex.length ?? 0) / 2;
  }

  it('keeps a pipe entity record within 48 bytes', () => {
    const end: EntityRecord = { id: 100_000, plugin: 'pipe', kind: 'pipe', flags: 0o4001, object: 100_000, state: {} };

    expect(frameSize((writer) => writer.writeEntity(end))).toBeLessThanOrEqual(48);
  });

  it('keeps a descriptor record within 64 bytes', () => {
    const fd: DescriptorRecord = { pid: 2 ** 22 - 1, fd: 2 ** 20 - 1, cloexec: true, entity: 100_000 };

    expect(frameSize((writer) => writer.writeDescriptor(fd))).toBeLessThanOrEqual(64);
  });
});

describe('ImageWriter.create', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fdcr-writer-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the final file with mode 0600 even under umask 0', () => {
    const previous = process.umask(0);
    try {
      const writer = ImageWriter.create(join(dir, 'image.fdcr'));
      writer.writeHeader(header);
      writer.finish();
    } finally {
      process.umask(previous);
    }

    expect(statSync(join(dir, 'image.fdcr')).mode & 0o7777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['image.fdcr']);
  });

  it('shows nothing under the final name until finish', () => {
    const writer = ImageWriter.create(join(dir, 'image.fdcr'));
    writer.writeHeader(header);
    // More than the writer's buffer, so bytes really reach the temporary file.
    writer.writeData(1, Buffer.alloc(3 * 1024 * 1024));

    expect(readdirSync(dir)).not.toContain('image.fdcr');
    expect(readdirSync(dir)).toHaveLength(1);
    writer.finish();
    expect(readdirSync(dir)).toEqual(['image.fdcr']);
  });

  it('leaves no file at all when aborted after writing', () => {
    const writer = ImageWriter.create(join(dir, 'image.fdcr'));
    writer.writeHeader(header);
    writer.writeData(1, Buffer.alloc(3 * 1024 * 1024));
    writer.abort();

    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps an existing image intact when aborted, and replaces it only on finish', () => {
    const target = join(dir, 'image.fdcr');
    writeFileSync(target, 'previous image');

    const aborted = ImageWriter.create(target);
    aborted.writeHeader(header);
    aborted.abort();
    expect(readFileSync(target, 'utf8')).toBe('previous image');
    expect(readdirSync(dir)).toEqual(['image.fdcr']);

    const finished = ImageWriter.create(target);
    finished.writeHeader(header);
    finished.finish();
    expect(readFileSync(target).subarray(0, 12).toString('hex')).toBe(GOLDEN.prefix);
  });

  it('ignores abort after finish', () => {
    const writer = ImageWriter.create(join(dir, 'image.fdcr'));
    writer.writeHeader(header);
    writer.finish();
    writer.abort();

    expect(readdirSync(dir)).toEqual(['image.fdcr']);
  });

  it('fails with FDCR_E_IMAGE_IO when the directory does not exist', () => {
    let caught: unknown;
    try {
      ImageWriter.create(join(dir, 'missing', 'image.fdcr'));
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(FdcrError);
    expect(caught).toMatchObject({ code: 'FDCR_E_IMAGE_IO', path: join(dir, 'missing', 'image.fdcr') });
  });
});
