import type { BigIntStats } from 'node:fs';

/** The entity kinds of the file plugin. */
export type FileKind = 'file' | 'directory' | 'path' | 'device' | 'deleted';

/** What identifies a file and tells whether it changed: all numbers that may pass 2^53 as text. */
export interface FileIdentity {
  /** st_mode: type and permission bits. */
  mode: number;
  size: number;
  /** Inode number, decimal. */
  ino: string;
  /** Device of the filesystem (st_dev), decimal. */
  dev: string;
  /** Modification time in nanoseconds since the epoch, decimal. */
  mtimeNs: string;
}

/** State of one entity (open file description) of the file plugin. */
export interface FileEntityState extends Partial<FileIdentity> {
  /** Absolute path as bytes, without the kernel's ` (deleted)` mark. */
  path: Uint8Array;
  /** File offset (fdinfo pos), decimal: a directory's position is a cookie that may pass 2^53. */
  pos: string;
  /** Boot id of the machine at checkpoint; identity is only compared within one boot. */
  boot?: string;
  /** For kind `device`: the memory device's name (`null`, `zero`...). */
  device?: string;
  /** For kind `device`: st_rdev, decimal. */
  rdev?: string;
}

/** An extent of data in a deleted file; everything between extents is a hole. */
export interface Extent {
  offset: number;
  length: number;
}

/** State of one deleted-but-open file (its inode), shared by every entity opened on it. */
export interface DeletedObjectState {
  /** The path it had, as bytes: its directory is where the copy is created at restore. */
  path: Uint8Array;
  /** st_mode of the original. */
  mode: number;
  /** Apparent size in bytes, holes included. */
  size: number;
  /** Bytes of data saved (holes excluded). */
  bytes: number;
  /** Data stream; each chunk's `extra` is its offset in the file. Absent when bytes is 0. */
  stream?: number;
}

/** The identity fields of a stat result. */
export function identityOf(stat: BigIntStats): FileIdentity {
  return {
    mode: Number(stat.mode),
    size: Number(stat.size),
    ino: stat.ino.toString(),
    dev: stat.dev.toString(),
    mtimeNs: stat.mtimeNs.toString(),
  };
}

const isText = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Reads an entity's state back from an image record, or undefined if it is malformed. */
export function parseEntityState(state: Record<string, unknown>): FileEntityState | undefined {
  const { path, pos, mode, size, ino, dev, mtimeNs, boot, device, rdev } = state;
  const ok = path instanceof Uint8Array && path[0] === 0x2f && typeof pos === 'string' && /^[0-9]+$/.test(pos) &&
    (mode === undefined || isCount(mode)) && (size === undefined || isCount(size)) &&
    [ino, dev, mtimeNs, boot, device, rdev].every(isText);
  return ok ? (state as unknown as FileEntityState) : undefined;
}

/** Reads a deleted file's object state back from an image record, or undefined. */
export function parseDeletedState(state: Record<string, unknown>): DeletedObjectState | undefined {
  const { path, mode, size, bytes, stream } = state;
  const ok = path instanceof Uint8Array && path[0] === 0x2f && isCount(mode) && isCount(size) &&
    isCount(bytes) && (stream === undefined || isCount(stream)) && (bytes === 0 || stream !== undefined);
  return ok ? (state as unknown as DeletedObjectState) : undefined;
}
