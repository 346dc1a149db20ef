/** Socket types by the names the image records. */
export const SOCKET_TYPES = { stream: 1, dgram: 2, seqpacket: 5 } as const;

/** A recorded socket type. */
export type SocketTypeName = keyof typeof SOCKET_TYPES;

/** The state of one end of a pair; index 0 and 1 in `SocketpairState.ends`. */
export interface EndState {
  /** Inode of the original socket, for humans. */
  ino: number;
  /** The end had been closed: restore creates it, fills the survivor, then closes it. */
  closed?: boolean;
  /** Bytes in this end's receive queue. */
  bytes: number;
  /** Messages in this end's receive queue (datagram and seqpacket); 0 for a stream. */
  messages: number;
  /** Data stream with the receive queue; each chunk is one message for datagram types. */
  stream?: number;
  /** The application's SO_PEEK_OFF (-1 when peeking with an offset is off). */
  peekOff: number;
  /** SO_SNDBUF and SO_RCVBUF as getsockopt reports them (the kernel's doubled values). */
  sndbuf: number;
  rcvbuf: number;
  /** sk_shutdown bits: 1 no more receiving (SHUT_RD), 2 no more sending (SHUT_WR). */
  shutdown: number;
  /** SO_PASSCRED was set. */
  passcred?: boolean;
}

/** The state the socketpair plugin saves once per pair (object kind `socketpair`). */
export interface SocketpairState {
  type: SocketTypeName;
  ends: [EndState, EndState];
}

/** The state of one entity (kind `socketpair`): which end of its pair it is. */
export interface SocketpairEntityState {
  end: 0 | 1;
}

function isInt(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

function parseEnd(raw: unknown): EndState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const e = raw as Record<string, unknown>;
  const ok =
    isInt(e.ino, 0) && isInt(e.bytes, 0) && isInt(e.messages, 0) && isInt(e.peekOff, -1) &&
    isInt(e.sndbuf, 0) && isInt(e.rcvbuf, 0) && isInt(e.shutdown, 0) && e.shutdown <= 3 &&
    (e.stream === undefined || isInt(e.stream, 0));
  if (!ok) return undefined;
  return {
    ino: e.ino as number,
    closed: e.closed === true,
    bytes: e.bytes as number,
    messages: e.messages as number,
    stream: e.stream as number | undefined,
    peekOff: e.peekOff as number,
    sndbuf: e.sndbuf as number,
    rcvbuf: e.rcvbuf as number,
    shutdown: e.shutdown as number,
    passcred: e.passcred === true,
  };
}

/** Reads a pair's state back from an image record, checking every field it relies on. */
export function parseSocketpairState(state: Record<string, unknown>): SocketpairState | undefined {
  const { type, ends } = state;
  if (typeof type !== 'string' || !(type in SOCKET_TYPES)) return undefined;
  if (!Array.isArray(ends) || ends.length !== 2) return undefined;
  const a = parseEnd(ends[0]);
  const b = parseEnd(ends[1]);
  if (a === undefined || b === undefined || (a.closed && b.closed)) return undefined;
  return { type: type as SocketTypeName, ends: [a, b] };
}

/** The recorded name of a socket type number, if this plugin handles it. */
export function typeName(type: number): SocketTypeName | undefined {
  return (Object.keys(SOCKET_TYPES) as SocketTypeName[]).find((k) => SOCKET_TYPES[k] === type);
}

/**
 * The `extra` of a data chunk that carried descriptors (SCM_RIGHTS): the entity ids of the
 * passed files, in the order they were passed.
 */
export interface RightsExtra {
  rights: number[];
}

/** The chunk extra for passed descriptors. */
export function rightsExtra(entityIds: readonly number[]): RightsExtra {
  return { rights: [...entityIds] };
}

/** The entity ids a chunk's extra passes; [] for none, undefined when the extra is malformed. */
export function parseRights(extra: unknown): number[] | undefined {
  if (extra === undefined || extra === null) return [];
  const rights = (extra as Partial<RightsExtra>).rights;
  if (typeof extra !== 'object' || !Array.isArray(rights) || rights.length === 0) return undefined;
  return rights.every((id) => isInt(id, 0)) ? rights : undefined;
}
