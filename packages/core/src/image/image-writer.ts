import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FdcrError } from '../errors/fdcr-error.js';
import { closeQuietly, writevFully } from '../linux/syscalls.js';
import type {
  DescriptorRecord,
  EntityRecord,
  ImageHeader,
  ObjectRecord,
  ProcessRecord,
} from '../model/records.js';
import { encodeCbor } from './cbor.js';
import {
  DATA_CHUNK_SIZE,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  FRAME_HEAD_SIZE,
  FRAME_TAIL_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  PREFIX_SIZE,
  RecordKind,
  kindName,
} from './format.js';
import { Wire } from './wire-keys.js';

const BUFFER_SIZE = 1024 * 1024;

/** Data chunks from this size on are written straight from the caller's buffer, uncopied. */
const DIRECT_WRITE_MIN = 64 * 1024;

function ioError(action: string, target: string, error: unknown): FdcrError {
  const code = (error as NodeJS.ErrnoException).code ?? String(error);
  return new FdcrError('FDCR_E_IMAGE_IO', `cannot ${action} image ${target}: ${code}`, {
    path: target,
    cause: error,
  });
}

/**
 * Writes an image as a stream of framed records through a fixed-size buffer, so memory stays
 * bounded however much data is saved. A file image is written under a temporary name in the
 * same directory, fsynced, and renamed into place only by `finish()`.
 */
export class ImageWriter {
  private readonly buffer = Buffer.allocUnsafe(BUFFER_SIZE);
  private used = 0;
  private frames = 0;
  private written = 0;
  private closed = false;

  private constructor(
    private readonly fd: number,
    private readonly target: string,
    private readonly tempPath: string | undefined,
  ) {
    this.append(MAGIC);
    const version = Buffer.alloc(4);
    version.writeUInt16LE(FORMAT_MAJOR, 0);
    version.writeUInt16LE(FORMAT_MINOR, 2);
    this.append(version);
  }

  /** Starts an image at `target`, a path or `-` for standard output. */
  static create(target: string): ImageWriter {
    if (target === '-') {
      return new ImageWriter(1, 'stdout', undefined);
    }
    // A unique hidden name in the target's directory, so the final rename is atomic.
    const tempPath = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
    try {
      return new ImageWriter(openSync(tempPath, 'wx', 0o600), target, tempPath);
    } catch (error) {
      throw ioError('create', target, error);
    }
  }

  /** Starts an image on an already open descriptor (not closed by the writer). */
  static onFd(fd: number, name = `fd ${fd}`): ImageWriter {
    return new ImageWriter(fd, name, undefined);
  }

  /** Bytes produced so far. */
  get size(): number {
    return this.written + this.used;
  }

  // Records go out under their wire keys (wire-keys.ts); an undefined field is left out.
  writeHeader(header: ImageHeader): void {
    const plugins = Object.fromEntries(
      Object.entries(header.plugins).map(([name, stamp]) => [name, Wire.stamp.toWire(stamp)]),
    );
    this.frame(RecordKind.header, encodeCbor(Wire.header.toWire({ ...header, plugins })));
  }

  writeProcess(record: ProcessRecord): void {
    this.frame(RecordKind.process, encodeCbor(Wire.process.toWire(record)));
  }

  writeObject(record: ObjectRecord): void {
    this.frame(RecordKind.object, encodeCbor(Wire.object.toWire(record)));
  }

  writeEntity(record: EntityRecord): void {
    this.frame(RecordKind.entity, encodeCbor(Wire.entity.toWire(record)));
  }

  writeDescriptor(record: DescriptorRecord): void {
    this.frame(RecordKind.descriptor, encodeCbor(Wire.descriptor.toWire(record)));
  }

  /** Appends data to stream `stream`, split into chunks; `message` keeps it one message. */
  writeData(stream: number, data: Uint8Array, message = false, extra?: unknown): void {
    if (message || data.length <= DATA_CHUNK_SIZE) {
      if (!message && extra === undefined) this.plainDataFrame(stream, data);
      else this.frame(RecordKind.data, encodeCbor(dataRecord(stream, data, message, extra)));
      return;
    }
    for (let at = 0; at < data.length; at += DATA_CHUNK_SIZE) {
      this.plainDataFrame(stream, data.subarray(at, Math.min(at + DATA_CHUNK_SIZE, data.length)));
    }
  }

  /** Writes the trailer, flushes, fsyncs and moves the image to its final name. */
  finish(): void {
    const trailer = Wire.trailer.toWire({ frames: this.frames, bytes: this.size });
    this.frame(RecordKind.trailer, encodeCbor(trailer));
    this.flush();
    this.closed = true;
    if (this.tempPath === undefined) {
      return;
    }
    try {
      fsyncSync(this.fd);
    } catch (error) {
      closeQuietly(this.fd);
      this.removeTemp();
      throw ioError('finish', this.target, error);
    }
    try {
      closeSync(this.fd);
      renameSync(this.tempPath, this.target);
    } catch (error) {
      this.removeTemp();
      throw ioError('finish', this.target, error);
    }
    // The image is complete and in place; a failed fsync of its directory only leaves the
    // rename less durable, which is no reason to call the image bad.
    syncDirectoryQuietly(dirname(this.target));
  }

  /** Abandons the image: nothing appears under the final name. */
  abort(): void {
    if (this.closed) {
      return;
    }
    this.closed = true;
    if (this.tempPath !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed or never valid: the temporary file is removed below either way.
      }
      this.removeTemp();
    }
  }

  private removeTemp(): void {
    try {
      unlinkSync(this.tempPath as string);
    } catch {
      // The temporary file is already gone.
    }
  }

  private frame(kind: number, payload: Buffer): void {
    // Refused here rather than by every reader later: such an image could never be restored.
    if (payload.length > MAX_PAYLOAD) {
      throw new FdcrError('FDCR_E_IMAGE_TOO_LARGE', `cannot write a ${kindName(kind)} record of ${payload.length} bytes to image ${this.target} (limit ${MAX_PAYLOAD})`, { path: this.target });
    }
    const crc = crc32(payload, this.appendHead(kind, payload.length));
    this.append(payload);
    this.appendCrc(crc);
    this.frames++;
  }

  /**
   * A `{s, d}` data record framed without passing the data through the CBOR encoder: the
   * bytes are those encodeCbor would produce (pinned by the golden test). A large chunk is
   * not copied into the output buffer at all but written after it with one writev; a small
   * one is copied once, so that many small chunks still make few writes. This is the bulk
   * data path.
   */
  private plainDataFrame(stream: number, data: Uint8Array): void {
    const prefix = plainDataPrefix(stream, data.length);
    const crc = crc32(data, crc32(prefix, this.appendHead(RecordKind.data, prefix.length + data.length)));
    this.append(prefix);
    if (data.length >= DIRECT_WRITE_MIN) this.outputAfterBuffer(data);
    else this.append(data);
    this.appendCrc(crc);
    this.frames++;
  }

  /** Appends a frame head; returns the CRC-32 of it, which the frame's checksum starts from. */
  private appendHead(kind: number, length: number): number {
    if (this.used + FRAME_HEAD_SIZE > this.buffer.length) this.flush();
    const start = this.used;
    this.buffer[start] = kind;
    this.buffer.writeUInt32LE(length, start + 1);
    this.used += FRAME_HEAD_SIZE;
    return crc32(this.buffer.subarray(start, this.used));
  }

  private appendCrc(crc: number): void {
    if (this.used + FRAME_TAIL_SIZE > this.buffer.length) this.flush();
    this.buffer.writeUInt32LE(crc, this.used);
    this.used += FRAME_TAIL_SIZE;
  }

  private append(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buffer.length) {
      this.flush();
    }
    if (bytes.length >= this.buffer.length) {
      this.output([bytes]);
      return;
    }
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  /** Writes what is buffered and then `bytes` in one writev, leaving the buffer empty. */
  private outputAfterBuffer(bytes: Uint8Array): void {
    this.output(this.used > 0 ? [this.buffer.subarray(0, this.used), bytes] : [bytes]);
    this.used = 0;
  }

  private flush(): void {
    if (this.used > 0) {
      this.output([this.buffer.subarray(0, this.used)]);
      this.used = 0;
    }
  }

  private output(parts: Uint8Array[]): void {
    try {
      writevFully(this.fd, parts);
      for (const part of parts) this.written += part.length;
    } catch (error) {
      throw ioError('write', this.target, error);
    }
  }
}

/** CBOR head of an unsigned integer (major 0) or byte string (major 2) of `value`. */
function cborHead(major: number, value: number): Buffer {
  const type = major << 5;
  if (value < 24) return Buffer.from([type | value]);
  if (value < 0x100) return Buffer.from([type | 24, value]);
  const out = Buffer.allocUnsafe(value < 0x10000 ? 3 : 5);
  if (value < 0x10000) out.writeUInt16BE(value, 1);
  else out.writeUInt32BE(value, 1);
  out[0] = type | (value < 0x10000 ? 25 : 26);
  return out;
}

const MAP2_KEY_S = Buffer.from([0xa2, 0x61, 0x73]);
const KEY_D = Buffer.from([0x61, 0x64]);

/** Everything of the CBOR map `{s: stream, d: <length bytes>}` that precedes the bytes. */
function plainDataPrefix(stream: number, length: number): Buffer {
  return Buffer.concat([MAP2_KEY_S, cborHead(0, stream), KEY_D, cborHead(2, length)]);
}

function dataRecord(stream: number, data: Uint8Array, message: boolean, extra: unknown): object {
  const record: Record<string, unknown> = { s: stream, d: data };
  if (message) record.m = true;
  if (extra !== undefined) record.x = extra;
  return record;
}

function syncDirectoryQuietly(path: string): void {
  try {
    const fd = openSync(path, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // See finish(): durability of the rename is best effort.
  }
}

export { PREFIX_SIZE };
