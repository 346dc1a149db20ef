/** The state the pipe plugin saves once per pipe (kernel object), shared by its ends. */
export interface PipeObjectState {
  /** Inode number of the original pipe, for humans and for `inspect`. */
  ino: number;
  /** Capacity in bytes (F_GETPIPE_SZ), restored before any data. */
  capacity: number;
  /** Bytes that were pending. */
  bytes: number;
  /** Data stream with the pending bytes, when there were any. */
  stream?: number;
  /** Packet mode (O_DIRECT): each chunk of the stream is one packet. */
  packet?: boolean;
  /** Path of a FIFO, as bytes. Absent for anonymous pipes. */
  path?: Uint8Array;
  /** The FIFO had been unlinked; it is restored as an anonymous pipe. */
  deleted?: boolean;
}

const DELETED = Buffer.from(' (deleted)');

/** Whether a /proc fd link names an anonymous pipe (`pipe:[123]`). */
export function isAnonymousLink(link: Buffer): boolean {
  return link.subarray(0, 6).toString('latin1') === 'pipe:[';
}

/** The path of a FIFO link and whether it was unlinked. */
export function fifoPath(link: Buffer): { path: Buffer; deleted: boolean } {
  const deleted = link.length > DELETED.length && link.subarray(link.length - DELETED.length).equals(DELETED);
  return { path: deleted ? link.subarray(0, link.length - DELETED.length) : link, deleted };
}

/** Reads an object's state back from an image record, checking the fields it relies on. */
export function parsePipeObject(state: Record<string, unknown>): PipeObjectState | undefined {
  const { ino, capacity, bytes, stream, packet, path, deleted } = state;
  const ok =
    typeof capacity === 'number' && Number.isInteger(capacity) && capacity > 0 &&
    typeof bytes === 'number' && Number.isInteger(bytes) && bytes >= 0 &&
    (stream === undefined || typeof stream === 'number') &&
    (path === undefined || path instanceof Uint8Array);
  if (!ok) return undefined;
  return {
    ino: typeof ino === 'number' ? ino : 0,
    capacity,
    bytes,
    stream: stream as number | undefined,
    packet: packet === true,
    path: path as Uint8Array | undefined,
    deleted: deleted === true,
  };
}
