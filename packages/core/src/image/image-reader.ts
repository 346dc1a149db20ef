import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FdcrError } from '../errors/fdcr-error.js';
import type { DataChunk, ImageContents } from '../model/records.js';
import { sleepMs } from '../linux/syscalls.js';
import { decodeCbor } from './cbor.js';
import {
  FORMAT_MAJOR,
  FRAME_HEAD_SIZE,
  FRAME_TAIL_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  PREFIX_SIZE,
  RecordKind,
  isAncillaryKind,
  kindName,
} from './format.js';
import { ContentsBuilder } from './records-check.js';
import { WireKeys } from './wire-keys.js';

/** Where one data chunk sits in the image. */
interface ChunkRef {
  offset: number;
  /** Size of the whole frame. */
  length: number;
  /** Bytes of data it carries. */
  bytes: number;
}

function readExactly(fd: number, buffer: Buffer, position: number): number {
  let done = 0;
  while (done < buffer.length) {
    const got = readSync(fd, buffer, done, buffer.length - done, position + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/** Copies standard input to an unlinked temporary file, so the image can be read twice. */
function spoolStdin(): number {
  const path = join(tmpdir(), `fdcr-stdin-${process.pid}-${Date.now()}`);
  const fd = openSync(path, 'wx+', 0o600);
  unlinkSync(path);
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let position = 0;
  for (;;) {
    let got: number;
    try {
      got = readSync(0, buffer, 0, buffer.length, null);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') {
        sleepMs(2);
        continue;
      }
      if ((error as NodeJS.ErrnoException).code === 'EOF') break;
      throw error;
    }
    if (got === 0) break;
    position += writeAt(fd, buffer.subarray(0, got), position);
  }
  return fd;
}

function writeAt(fd: number, data: Buffer, position: number): number {
  let done = 0;
  while (done < data.length) {
    done += writeSync(fd, data, done, data.length - done, position + done);
  }
  return done;
}

/**
 * Reads an image. `open` validates the whole file first (magic, version, every checksum,
 * every record, the trailer) and keeps the metadata records; bulk data is read again on
 * demand with `data()`, so memory does not grow with the amount of data.
 */
export class ImageReader {
  private constructor(
    private readonly fd: number,
    readonly name: string,
    readonly contents: ImageContents,
    private readonly chunks: ReadonlyMap<number, readonly ChunkRef[]>,
    readonly size: number,
  ) {}

  /** Opens and validates an image file, or standard input for `-`. */
  static open(source: string): ImageReader {
    let fd: number;
    try {
      fd = source === '-' ? spoolStdin() : openSync(source, 'r');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new FdcrError('FDCR_E_IMAGE_IO', `cannot open image ${source}: ${code}`, {
        path: source,
        cause: error,
      });
    }
    return ImageReader.fromFd(fd, source === '-' ? 'stdin' : source);
  }

  /**
   * Validates an image held by an open descriptor. The reader owns the fd from here: it is
   * closed by `close()`, or at once when validation fails.
   */
  static fromFd(fd: number, name: string): ImageReader {
    try {
      return ImageReader.validate(fd, name);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  private static validate(fd: number, name: string): ImageReader {
    const size = fstatSync(fd).size;
    const builder = new ContentsBuilder();
    const chunks = new Map<number, ChunkRef[]>();
    const version = checkPrefix(fd, size, name);
    let offset = PREFIX_SIZE;
    let frames = 0;
    for (;;) {
      const frame = readFrame(fd, offset, size, name);
      if (frame.kind === RecordKind.trailer) {
        checkTrailer(frame.payload, frames, offset, offset + frame.total, size, name);
        break;
      }
      if (frame.kind === RecordKind.data) {
        const chunk = decodeData(frame.payload, name);
        const list = chunks.get(chunk.stream) ?? [];
        list.push({ offset, length: frame.total, bytes: chunk.data.length });
        chunks.set(chunk.stream, list);
      } else if (!isAncillaryKind(frame.kind)) {
        builder.add(frame.kind, decodeCbor(frame.payload), offset);
      }
      offset += frame.total;
      frames++;
    }
    const contents = builder.finish();
    checkHeaderVersion(contents, version, name);
    return new ImageReader(fd, name, contents, chunks, size);
  }

  /** The chunks of one data stream, in order, each re-checked against its checksum. */
  *data(stream: number): Generator<DataChunk> {
    for (const ref of this.chunks.get(stream) ?? []) {
      const frame = readFrame(this.fd, ref.offset, this.size, this.name);
      const chunk = decodeData(frame.payload, this.name);
      yield { data: chunk.data, message: chunk.message, extra: chunk.extra };
    }
  }

  /** Chunk count and total bytes of a data stream, known without reading it again. */
  streamSize(stream: number): { chunks: number; bytes: number } {
    const list = this.chunks.get(stream) ?? [];
    return { chunks: list.length, bytes: list.reduce((sum, c) => sum + c.bytes, 0) };
  }

  /** Stream ids present in the image. */
  streams(): number[] {
    return [...this.chunks.keys()];
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** The version in the prefix, which no checksum covers: the header repeats it. */
interface PrefixVersion {
  major: number;
  minor: number;
}

function checkPrefix(fd: number, size: number, name: string): PrefixVersion {
  if (size === 0) {
    throw new FdcrError('FDCR_E_IMAGE_EMPTY', `image ${name} is empty`, { path: name });
  }
  const prefix = Buffer.alloc(PREFIX_SIZE);
  const got = readExactly(fd, prefix, 0);
  if (got < MAGIC.length && prefix.subarray(0, got).equals(MAGIC.subarray(0, got))) {
    throw new FdcrError('FDCR_E_IMAGE_TRUNCATED', `image ${name} is truncated in its magic`, { path: name });
  }
  if (got < MAGIC.length || !prefix.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new FdcrError('FDCR_E_IMAGE_MAGIC', `${name} is not an fdcr image (bad magic)`, { path: name });
  }
  if (got < PREFIX_SIZE) {
    throw new FdcrError('FDCR_E_IMAGE_TRUNCATED', `image ${name} is truncated in its prefix`, { path: name });
  }
  const major = prefix.readUInt16LE(8);
  if (major !== FORMAT_MAJOR) {
    throw new FdcrError(
      'FDCR_E_IMAGE_VERSION',
      `image ${name} has format version ${major}.${prefix.readUInt16LE(10)}; this fdcr reads version ${FORMAT_MAJOR}`,
      { path: name, hint: major > FORMAT_MAJOR ? 'restore it with the newer fdcr that wrote it' : undefined },
    );
  }
  return { major, minor: prefix.readUInt16LE(10) };
}

/** Catches damage to the unchecksummed prefix: the checksummed header must agree with it. */
function checkHeaderVersion(contents: ImageContents, version: PrefixVersion, name: string): void {
  const { format, minor } = contents.header;
  if (format !== version.major || minor !== version.minor) {
    throw new FdcrError(
      'FDCR_E_IMAGE_CORRUPT',
      `image ${name}: prefix says format ${version.major}.${version.minor}, header says ${String(format)}.${String(minor)}`,
      { path: name },
    );
  }
}

interface Frame {
  kind: number;
  payload: Buffer;
  total: number;
}

function readFrame(fd: number, offset: number, size: number, name: string): Frame {
  if (offset + FRAME_HEAD_SIZE > size) {
    throw new FdcrError('FDCR_E_IMAGE_TRUNCATED', `image ${name} is truncated at byte ${offset} (no trailer)`, {
      path: name,
    });
  }
  const head = Buffer.alloc(FRAME_HEAD_SIZE);
  readExactly(fd, head, offset);
  const kind = head.readUInt8(0);
  const length = head.readUInt32LE(1);
  if (length > MAX_PAYLOAD) {
    throw new FdcrError('FDCR_E_IMAGE_TOO_LARGE', `image ${name}: ${kindName(kind)} record at byte ${offset} declares ${length} bytes (limit ${MAX_PAYLOAD})`, { path: name });
  }
  const total = FRAME_HEAD_SIZE + length + FRAME_TAIL_SIZE;
  if (offset + total > size) {
    throw new FdcrError('FDCR_E_IMAGE_TRUNCATED', `image ${name} is truncated inside a ${kindName(kind)} record at byte ${offset}`, { path: name });
  }
  const body = Buffer.allocUnsafe(length + FRAME_TAIL_SIZE);
  readExactly(fd, body, offset + FRAME_HEAD_SIZE);
  const payload = body.subarray(0, length);
  if (crc32(payload, crc32(head)) !== body.readUInt32LE(length)) {
    throw new FdcrError('FDCR_E_IMAGE_CHECKSUM', `image ${name}: checksum mismatch in ${kindName(kind)} record at byte ${offset}`, { path: name });
  }
  if (!isKnownKind(kind) && !isAncillaryKind(kind)) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${name}: unknown record kind ${kind} at byte ${offset}`, { path: name });
  }
  return { kind, payload, total };
}

function isKnownKind(kind: number): boolean {
  return Object.values(RecordKind).includes(kind as never);
}

function checkTrailer(
  payload: Buffer,
  frames: number,
  offset: number,
  end: number,
  size: number,
  name: string,
): void {
  const wire = decodeCbor(payload) as Record<string, unknown> | null;
  const counted = wire?.[WireKeys.trailer.frames];
  if (counted !== frames || wire?.[WireKeys.trailer.bytes] !== offset) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${name}: trailer counts ${String(counted)} records, found ${frames}`, { path: name });
  }
  if (end !== size) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${name}: ${size - end} unexpected bytes after the trailer`, { path: name });
  }
}

interface DecodedChunk {
  stream: number;
  data: Buffer;
  message: boolean;
  extra?: unknown;
}

function decodeData(payload: Buffer, name: string): DecodedChunk {
  const record = decodeCbor(payload) as Record<string, unknown> | null;
  const keys = WireKeys.data;
  const stream = record?.[keys.stream];
  const data = record?.[keys.data];
  if (typeof stream !== 'number' || !Number.isSafeInteger(stream) || !(data instanceof Uint8Array)) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${name}: malformed data record`, { path: name });
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { stream, data: bytes, message: record?.[keys.message] === true, extra: record?.[keys.extra] };
}
