/**
 * The fdcr image format: one place for the magic, the version and the record kinds.
 * Record kinds are never renumbered; retired kinds are never reused. See docs/image-format.md.
 */

/** First 8 bytes of every image: a non-ASCII byte, the name, and line-ending canaries. */
export const MAGIC = Buffer.from([0x89, 0x46, 0x44, 0x43, 0x52, 0x0d, 0x0a, 0x1a]);

/** Major format version: a reader refuses an image with a higher major. */
export const FORMAT_MAJOR = 1;

/** Minor format version: additions an older reader of the same major can ignore. */
export const FORMAT_MINOR = 0;

/** Size of the file prefix: magic, u16 major, u16 minor. */
export const PREFIX_SIZE = 12;

/** Size of a frame head: u8 kind, u32 payload length. */
export const FRAME_HEAD_SIZE = 5;

/** Size of a frame tail: u32 CRC-32 of head and payload. */
export const FRAME_TAIL_SIZE = 4;

/** Largest payload a frame may declare; a larger length is refused before any allocation. */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

/** Largest data chunk the writer puts in one frame. */
export const DATA_CHUNK_SIZE = 256 * 1024;

/** Record kinds. Kinds 64..126 are ancillary: a reader that does not know one skips it. */
export const RecordKind = {
  header: 1,
  process: 2,
  object: 3,
  entity: 4,
  descriptor: 5,
  data: 6,
  trailer: 127,
} as const;

/** A record kind number. */
export type RecordKindNumber = (typeof RecordKind)[keyof typeof RecordKind];

/** Whether an unknown record kind may be skipped by this reader. */
export function isAncillaryKind(kind: number): boolean {
  return kind >= 64 && kind < 127;
}

/** Name of a record kind, for messages. */
export function kindName(kind: number): string {
  const entry = Object.entries(RecordKind).find(([, value]) => value === kind);
  return entry === undefined ? `kind ${kind}` : entry[0];
}
