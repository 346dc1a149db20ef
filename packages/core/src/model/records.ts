/** A checkpointed process: who it was, so that it can be started again. */
export interface ProcessRecord {
  pid: number;
  ppid: number;
  /** The command name from /proc/PID/stat. */
  comm: string;
  /** argv as bytes: arguments need not be UTF-8. */
  argv: Buffer[];
  /** Working directory as bytes. */
  cwd: Buffer;
}

/**
 * An entity is one open file description (a pipe end, a socket, an open regular file):
 * saved once, however many descriptors in however many processes refer to it.
 */
export interface EntityRecord {
  id: number;
  /** Name of the plugin that saved it and will restore it. */
  plugin: string;
  /** The plugin's kind of file, e.g. `pipe` or `fifo`. */
  kind: string;
  /** f_flags of the open file description (access mode and status flags, no O_CLOEXEC). */
  flags: number;
  /** Kernel object shared with other entities (both ends of one pipe), if any. */
  object?: number;
  /** Plugin-defined state; unknown fields are kept and ignored. */
  state: Record<string, unknown>;
}

/** State of one kernel object shared by several entities, e.g. a pipe's capacity and data. */
export interface ObjectRecord {
  id: number;
  plugin: string;
  kind: string;
  state: Record<string, unknown>;
}

/** A descriptor: which process holds which entity at which fd number, with which fd flags. */
export interface DescriptorRecord {
  pid: number;
  fd: number;
  cloexec: boolean;
  entity: number;
}

/** Version information of a plugin as recorded in an image header. */
export interface PluginStamp {
  version: string;
  state: number;
}

/** The image header: what wrote it, where and when. */
export interface ImageHeader {
  format: number;
  minor: number;
  fdcr: string;
  plugins: Record<string, PluginStamp>;
  kernel: string;
  arch: string;
  host: string;
  time: string;
  /**
   * Kernel boot id of the machine that wrote the image. Inode and device numbers identify a
   * file only within one boot of one machine, so plugins compare them only when it matches.
   */
  boot?: string;
}

/** One chunk of saved data of a stream. `message` marks a chunk that is a whole message. */
export interface DataChunk {
  data: Buffer;
  message: boolean;
  /** Plugin-defined extra (e.g. ancillary data of a datagram). */
  extra?: unknown;
}

/** Everything an image holds except the bulk data, which is read on demand. */
export interface ImageContents {
  header: ImageHeader;
  processes: ProcessRecord[];
  objects: ObjectRecord[];
  entities: EntityRecord[];
  descriptors: DescriptorRecord[];
}

/** Name of the built-in pseudo-plugin for descriptors fdcr does not recreate. */
export const EXTERNAL_PLUGIN = 'external';
