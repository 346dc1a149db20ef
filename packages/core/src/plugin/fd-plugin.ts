import type { BigIntStats } from 'node:fs';
import type { FdInfo } from '../linux/proc.js';
import type { DataChunk, EntityRecord, ImageHeader, ObjectRecord } from '../model/records.js';
import type { Logger } from './logger.js';

/** Major version of the plugin contract; a plugin written for another one is rejected. */
export const PLUGIN_API_VERSION = 1;

/** What a plugin says about itself; checked when it is registered. */
export interface PluginMeta {
  /** Unique name, recorded in entities, e.g. `pipe`. */
  name: string;
  /** The plugin package's version, recorded in image headers. */
  version: string;
  /** The contract major version it implements: must equal PLUGIN_API_VERSION. */
  apiVersion: number;
  /**
   * Version of the state records the plugin writes. Restore refuses an image whose
   * records are newer than the registered plugin (FDCR_E_PLUGIN_VERSION).
   */
  stateVersion: number;
  description: string;
  /**
   * Its open files can hold other open files (descriptors in flight in a socket queue),
   * which it hands to `CheckpointContext.checkpointExtra`. Such a plugin checkpoints before
   * the plugins without this flag, so the files it finds join their batches, and restores
   * after them, so it can pass on their restored fds (`RestoreContext.fdOf`).
   */
  carriesFiles?: boolean;
}

/** A descriptor of a target process, as the classifier sees it. */
export interface FdProbe {
  pid: number;
  /** Descriptor number in the target. */
  fd: number;
  /** fdcr's own duplicate of it (valid only during the checkpoint). */
  localFd: number;
  stat: BigIntStats;
  info: FdInfo;
  /** readlink of /proc/PID/fd/FD, as bytes. */
  link: Buffer;
  /**
   * Set for a file found in flight (see `CheckpointContext.checkpointExtra`): where it was,
   * e.g. `socket:[123] (pid 5 fd 11)`. `pid` and `fd` are then fdcr's own, and the open
   * file has no holders.
   */
  via?: string;
}

/** A descriptor that holds an open file description. */
export interface DescriptorRef {
  pid: number;
  fd: number;
  cloexec: boolean;
}

/** One open file description to checkpoint, with every descriptor that shares it. */
export interface OpenFile extends FdProbe {
  entityId: number;
  holders: readonly DescriptorRef[];
}

/** What a plugin records for one entity; the engine fills id, plugin and flags. */
export interface EntityInput {
  kind: string;
  object?: number;
  state: Record<string, unknown>;
  /** Defaults to the open file's f_flags. */
  flags?: number;
}

/** Services the engine gives a plugin during a checkpoint. */
export interface CheckpointContext {
  readonly logger: Logger;
  /** The pids being checkpointed. */
  readonly pids: readonly number[];
  /** Plugin options given by the caller, keyed by plugin name. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Records a shared kernel object; returns its id. */
  addObject(kind: string, state: Record<string, unknown>): number;
  /** Records the entity of an open file. */
  addEntity(file: OpenFile, entity: EntityInput): void;
  /**
   * Registers a file found inside one of this plugin's files (a descriptor in flight in a
   * queue), given as fdcr's own descriptor `localFd` (still the caller's to close), and
   * returns its entity id, for the plugin's records. A file that a target also holds, or
   * that was found before, keeps its entity (one open file description, one entity);
   * otherwise it becomes a new entity, checkpointed later by the plugin that claims it.
   * `via` names where it was found, for errors. Throws FDCR_E_DUMP_UNSUPPORTED_FD when no
   * plugin claims it, when its plugin has already run (only plugins with `carriesFiles`
   * run before others), or when it is a target descriptor recorded as external.
   */
  checkpointExtra(localFd: number, via: string): number;
  /** Allocates a data stream id for `writeData`. */
  newStream(): number;
  /** Appends a chunk to a data stream; written to the image at once, never buffered whole. */
  writeData(stream: number, data: Uint8Array, message?: boolean, extra?: unknown): void;
}

/** Services the engine gives a plugin during a restore. */
export interface RestoreContext {
  readonly logger: Logger;
  readonly options: Readonly<Record<string, unknown>>;
  /** The image header: where and when it was written. */
  readonly header: ImageHeader;
  /** Shared objects of the image by id. */
  readonly objects: ReadonlyMap<number, ObjectRecord>;
  /** Every entity of the image by id, including other plugins'. */
  readonly entities: ReadonlyMap<number, EntityRecord>;
  /** The chunks of a data stream, read from the image on demand. */
  data(stream: number): Iterable<DataChunk>;
  /** Hands the engine the fd that now embodies an entity; the engine owns it from here. */
  provide(entityId: number, fd: number): void;
  /** The fd already provided for an entity (of any plugin restored before this one). */
  fdOf(entityId: number): number | undefined;
}

/**
 * An fd-type plugin: the checkpoint and restore operations of one kind of open file, in the
 * spirit of the kernel's file operations. Register it with `registerPlugin`.
 *
 * Errors: throw FdcrError. `checkpoint` uses FDCR_E_DUMP_UNSUPPORTED_STATE for state it cannot
 * capture faithfully and FDCR_E_DUMP_DATA_CHANGED when pending data cannot be copied intact;
 * `restore` uses FDCR_E_RESTORE_FAILED. Syscall failures surface as FDCR_E_SYSCALL.
 */
export interface FdPlugin {
  readonly meta: PluginMeta;
  /** Whether this plugin handles a descriptor. Cheap and free of side effects. */
  claims(probe: FdProbe): boolean;
  /** Records the entities (and shared objects and data) of every open file it claimed. */
  checkpoint(files: readonly OpenFile[], ctx: CheckpointContext): void | Promise<void>;
  /** Recreates its entities and `provide`s one fd per entity. Must not leak fds on error. */
  restore(entities: readonly EntityRecord[], ctx: RestoreContext): void | Promise<void>;
  /** One line for humans about an entity, used by `fdcr show`. */
  describe?(entity: EntityRecord, object: ObjectRecord | undefined): string;
  /**
   * Live facts about a descriptor for `fdcr inspect`, which must not disturb the target:
   * read-only calls on `probe.localFd` (ioctls, getsockopt, sock_diag), never reads that
   * consume data, never changes to flags. Called only for descriptors this plugin claims;
   * the probe's fd is closed by the caller. Return only what the generic scan cannot know
   * (see InspectFacts); throwing is allowed and is shown as an unavailable fact, not fatal.
   * Work that serves every descriptor (one sock_diag dump) goes through `ctx.cached`, so it
   * runs once per inspect run rather than once per descriptor.
   */
  inspect?(probe: FdProbe, ctx: InspectContext): InspectFacts;
}

/** Services the engine gives `FdPlugin.inspect` for one inspect run. */
export interface InspectContext {
  /**
   * The value `compute` returned the first time `key` was asked for in this run. Keys are
   * shared by all plugins: prefix them with the plugin name. A failure is not cached.
   */
  cached<T>(key: string, compute: () => T): T;
}

/**
 * What a plugin knows about a live descriptor beyond the generic scan. Every field is
 * optional; well-known fields are used by `fdcr inspect` for peers, queues and graphs.
 */
export interface InspectFacts {
  /** A finer kind than the file type, e.g. `socketpair` or `unix-stream`. */
  kind?: string;
  /** Inode of the file at the other end (a unix socket's peer), for the peer search. */
  peerInode?: number;
  /** Bytes waiting to be read through this descriptor. */
  pendingIn?: number;
  /** Bytes written through this descriptor that the other end has not read yet. */
  pendingOut?: number;
  /** Anything else worth showing, rendered as `key=value`; must be JSON-safe. */
  details?: Record<string, unknown>;
}
