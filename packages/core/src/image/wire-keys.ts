import type {
  DescriptorRecord,
  EntityRecord,
  ImageHeader,
  ObjectRecord,
  PluginStamp,
  ProcessRecord,
} from '../model/records.js';

/**
 * The wire key of every field of a record: short text keys keep the per-record overhead of
 * the CBOR maps small (an entity carries them once per open file description). A key is
 * unique within its record kind, never renamed, and a retired key is never reused with
 * another meaning. See docs/image-format.md.
 */
type KeyTable<T> = { readonly [Field in keyof Required<T>]: string };

/** Fields of a data record, which the writer builds without a model type. */
interface DataFields {
  stream: number;
  data: Uint8Array;
  message: true;
  extra: unknown;
}

/** Fields of the trailer. */
interface TrailerFields {
  frames: number;
  bytes: number;
}

/**
 * Wire keys per record kind, in the order the writer writes them. The `satisfies` clauses
 * make a model field without a wire key a compile error. Plugin state maps are not renamed:
 * their keys belong to the plugins.
 */
export const WireKeys = {
  header: {
    format: 'f', minor: 'm', fdcr: 'w', plugins: 'p', kernel: 'k', arch: 'a', host: 'h', time: 't', boot: 'b',
  },
  stamp: { version: 'v', state: 's' },
  process: { pid: 'p', ppid: 'pp', comm: 'c', argv: 'a', cwd: 'w' },
  object: { id: 'i', plugin: 'p', kind: 'k', state: 's' },
  entity: { id: 'i', plugin: 'p', kind: 'k', flags: 'f', object: 'o', state: 's' },
  descriptor: { pid: 'p', fd: 'f', cloexec: 'c', entity: 'e' },
  data: { stream: 's', data: 'd', message: 'm', extra: 'x' },
  trailer: { frames: 'n', bytes: 'b' },
} as const satisfies {
  header: KeyTable<ImageHeader>;
  stamp: KeyTable<PluginStamp>;
  process: KeyTable<ProcessRecord>;
  object: KeyTable<ObjectRecord>;
  entity: KeyTable<EntityRecord>;
  descriptor: KeyTable<DescriptorRecord>;
  data: KeyTable<DataFields>;
  trailer: KeyTable<TrailerFields>;
};

/** Renames the fields of one record kind between the in-memory model and the wire. */
export class WireTable {
  private readonly pairs: readonly (readonly [string, string])[];

  constructor(keys: Readonly<Record<string, string>>) {
    this.pairs = Object.entries(keys);
  }

  /** The wire map of a model record: each defined field under its key, in table order. */
  toWire(record: object): Record<string, unknown> {
    const fields = record as Record<string, unknown>;
    const wire: Record<string, unknown> = {};
    for (const [field, key] of this.pairs) {
      if (fields[field] !== undefined) wire[key] = fields[field];
    }
    return wire;
  }

  /**
   * The model fields of a decoded wire map, with its unknown keys kept under their own names
   * (a newer minor version may add keys). An unknown key spelled like a model field of this
   * kind is dropped: kept, it would stand in for that field without being checked.
   */
  fromWire(wire: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    for (const [field, key] of this.pairs) {
      if (Object.hasOwn(wire, key)) record[field] = wire[key];
    }
    for (const [key, value] of Object.entries(wire)) {
      if (!this.isKnown(key)) record[key] = value;
    }
    return record;
  }

  /** The wire key of a model field, for messages. */
  keyOf(field: string): string {
    return this.pairs.find(([name]) => name === field)?.[1] ?? field;
  }

  private isKnown(key: string): boolean {
    return this.pairs.some(([field, wireKey]) => key === wireKey || key === field);
  }
}

/** The renaming tables of the record kinds, built once. */
export const Wire = {
  header: new WireTable(WireKeys.header),
  stamp: new WireTable(WireKeys.stamp),
  process: new WireTable(WireKeys.process),
  object: new WireTable(WireKeys.object),
  entity: new WireTable(WireKeys.entity),
  descriptor: new WireTable(WireKeys.descriptor),
  trailer: new WireTable(WireKeys.trailer),
} as const;
