import { FdcrError } from '../errors/fdcr-error.js';
import type {
  DescriptorRecord,
  EntityRecord,
  ImageContents,
  ImageHeader,
  ObjectRecord,
  ProcessRecord,
} from '../model/records.js';
import { RecordKind, kindName } from './format.js';
import { Wire, WireKeys, type WireTable } from './wire-keys.js';

type Fields = Record<string, unknown>;

function fail(kind: number, offset: number, what: string): never {
  throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image ${kindName(kind)} record at byte ${offset}: ${what}`);
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

type Check = (v: unknown) => boolean;

/** Fields of a record kind with the check each must pass, by model name. */
type Spec<T> = { readonly [Field in keyof T]?: Check };

/**
 * Renames a wire record to model fields (wire-keys.ts), then checks that the fields of `spec`
 * have their types. Messages name the wire key, which is what a reader of the bytes sees.
 */
function decode<T>(kind: number, offset: number, record: unknown, table: WireTable, spec: Spec<T>): Fields {
  if (!isObject(record)) fail(kind, offset, 'not a map');
  const fields = table.fromWire(record);
  for (const [field, check] of Object.entries(spec) as [string, Check][]) {
    if (!check(fields[field])) {
      fail(kind, offset, `field ${table.keyOf(field)} (${field}) is missing or has the wrong type`);
    }
  }
  return fields;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const isBool = (v: unknown): boolean => typeof v === 'boolean';
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v);
const isOptionalId = (v: unknown): boolean => v === undefined || isId(v);
const isBytesList = (v: unknown): boolean => Array.isArray(v) && v.every(isBytes);

// Restore compares `state` with the plugin's stateVersion: a stamp of any other type would
// compare false and let newer records through unchecked. Stamps are checked in wire form.
const isStamp = (v: unknown): boolean =>
  isObject(v) && isInt(v[WireKeys.stamp.state]) && (v[WireKeys.stamp.state] as number) >= 1;
const isStamps = (v: unknown): boolean => isObject(v) && Object.values(v).every(isStamp);

// What the reader requires of each record kind, by model field; `arch` is informational.
const isOptionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

const HEADER: Spec<ImageHeader> = {
  format: isInt, minor: isInt, fdcr: isString, plugins: isStamps,
  kernel: isString, host: isString, time: isString, boot: isOptionalString,
};
const PROCESS: Spec<ProcessRecord> = {
  pid: isId, ppid: isInt, comm: isString, argv: isBytesList, cwd: isBytes,
};
const OBJECT: Spec<ObjectRecord> = { id: isId, plugin: isString, kind: isString, state: isObject };
const ENTITY: Spec<EntityRecord> = {
  id: isId, plugin: isString, kind: isString, flags: isInt, object: isOptionalId, state: isObject,
};
/**
 * Descriptor numbers are below the kernel's default fs.nr_open (2^20). A larger one cannot
 * have been dumped from a default system, and restoring it would size tables by it.
 */
export const MAX_FD = 1 << 20;
const isFdNumber = (v: unknown): boolean => isId(v) && (v as number) < MAX_FD;
const DESCRIPTOR: Spec<DescriptorRecord> = { pid: isId, fd: isFdNumber, cloexec: isBool, entity: isId };

/** A checked header in model form: its plugin stamps are renamed as well. */
function decodeHeader(offset: number, record: unknown): ImageHeader {
  const header = decode(RecordKind.header, offset, record, Wire.header, HEADER);
  const plugins = Object.entries(header.plugins as Fields).map(([name, stamp]) => [
    name,
    Wire.stamp.fromWire(stamp as Fields),
  ]);
  return { ...header, plugins: Object.fromEntries(plugins) } as unknown as ImageHeader;
}

/**
 * Collects the metadata records of an image while checking each one's shape, then their
 * cross-references (every descriptor names a known process and entity, ids are unique).
 * Unknown fields are kept: a newer minor version may add them.
 */
export class ContentsBuilder {
  private header: ImageHeader | undefined;
  private readonly processes: ProcessRecord[] = [];
  private readonly objects: ObjectRecord[] = [];
  private readonly entities: EntityRecord[] = [];
  private readonly descriptors: DescriptorRecord[] = [];

  add(kind: number, record: unknown, offset: number): void {
    if (kind !== RecordKind.header && this.header === undefined) fail(kind, offset, 'record before the header');
    switch (kind) {
      case RecordKind.header:
        if (this.header !== undefined) fail(kind, offset, 'second header');
        this.header = decodeHeader(offset, record);
        break;
      case RecordKind.process:
        this.processes.push(decode(kind, offset, record, Wire.process, PROCESS) as unknown as ProcessRecord);
        break;
      case RecordKind.object:
        this.objects.push(decode(kind, offset, record, Wire.object, OBJECT) as unknown as ObjectRecord);
        break;
      case RecordKind.entity:
        this.entities.push(decode(kind, offset, record, Wire.entity, ENTITY) as unknown as EntityRecord);
        break;
      case RecordKind.descriptor:
        this.descriptors.push(
          decode(kind, offset, record, Wire.descriptor, DESCRIPTOR) as unknown as DescriptorRecord,
        );
        break;
      default:
        fail(kind, offset, 'unexpected record kind');
    }
  }

  finish(): ImageContents {
    if (this.header === undefined) {
      throw new FdcrError('FDCR_E_IMAGE_CORRUPT', 'image has no header record');
    }
    this.checkReferences();
    return {
      header: this.header,
      processes: this.processes,
      objects: this.objects,
      entities: this.entities,
      descriptors: this.descriptors,
    };
  }

  private checkReferences(): void {
    const pids = uniqueIds(this.processes.map((p) => p.pid), 'process pid');
    const objects = uniqueIds(this.objects.map((o) => o.id), 'object id');
    const entities = uniqueIds(this.entities.map((e) => e.id), 'entity id');
    for (const entity of this.entities) {
      if (entity.object !== undefined && !objects.has(entity.object)) {
        throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image entity ${entity.id} refers to missing object ${entity.object}`);
      }
    }
    const slots = new Set<string>();
    for (const d of this.descriptors) {
      if (!pids.has(d.pid) || !entities.has(d.entity)) {
        throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image descriptor ${d.pid}:${d.fd} refers to a missing process or entity`);
      }
      const slot = `${d.pid}:${d.fd}`;
      if (slots.has(slot)) {
        throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image holds descriptor ${slot} twice`);
      }
      slots.add(slot);
    }
  }
}

function uniqueIds(ids: number[], what: string): Set<number> {
  const set = new Set(ids);
  if (set.size !== ids.length) {
    throw new FdcrError('FDCR_E_IMAGE_CORRUPT', `image holds a duplicate ${what}`);
  }
  return set;
}
