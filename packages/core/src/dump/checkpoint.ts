import { hostname, release } from 'node:os';
import type { DependencyContainer } from 'tsyringe';
import { FdcrError } from '../errors/fdcr-error.js';
import { ImageWriter } from '../image/image-writer.js';
import { FORMAT_MAJOR, FORMAT_MINOR } from '../image/format.js';
import { listTree, procError, readArgv, readCwd, readProcStat, readBootId } from '../linux/proc.js';
import { EXTERNAL_PLUGIN, type EntityRecord, type ProcessRecord } from '../model/records.js';
import type { CheckpointContext, FdPlugin, FdProbe, OpenFile } from '../plugin/fd-plugin.js';
import type { Logger } from '../plugin/logger.js';
import { resolvePlugins } from '../plugin/registry.js';
import { LOGGER } from '../plugin/tokens.js';
import { FDCR_VERSION } from '../version.js';
import { trackProgress, type ProgressListener, type ProgressTracker } from '../api/progress.js';
import { classify, describeProbe } from './classify.js';
import { collectFiles, openFileOf, type CollectedFiles } from './collect.js';
import { ExtraFiles } from './extra-files.js';
import { freezeProcesses, type Frozen } from './freezer.js';

/** What to checkpoint and where to write it. */
export interface CheckpointOptions {
  /** Processes to checkpoint. */
  pids?: readonly number[];
  /** Processes to checkpoint together with all their descendants. */
  trees?: readonly number[];
  /** Only these descriptors of a process (default: all of them). */
  fds?: Readonly<Record<number, readonly number[]>>;
  /** Image path, `-` for standard output, or a writer the caller finishes itself. */
  output: string | ImageWriter;
  /** Record fds no plugin handles as external instead of failing. */
  skipUnsupported?: boolean;
  /** Freeze the targets during the dump (default true; must be false for fdcr's own pid). */
  freeze?: boolean;
  /**
   * Kill the targets (SIGKILL) once the image is complete, before they are thawed: a target
   * that ran on between thaw and kill could change state the image no longer matches.
   */
  kill?: boolean;
  /** Options for plugins, keyed by plugin name. */
  pluginOptions?: Readonly<Record<string, unknown>>;
  /** Called as data is copied and descriptors are done; not called at all when absent. */
  onProgress?: ProgressListener;
}

/** Figures about a finished checkpoint. */
export interface CheckpointSummary {
  pids: number[];
  descriptors: number;
  entities: number;
  external: number;
  dataBytes: number;
  imageBytes: number;
  /** Milliseconds the targets stayed frozen. */
  frozenMs: number;
  durationMs: number;
}

/** The processes a checkpoint covers: the pids plus every tree, each once, in order. */
export function resolveTargets(options: Pick<CheckpointOptions, 'pids' | 'trees'>): number[] {
  const all = [...(options.pids ?? [])];
  for (const root of options.trees ?? []) all.push(...listTree(root));
  const unique = [...new Set(all)];
  if (unique.length === 0) {
    throw new FdcrError('FDCR_E_ARG_INVALID', 'no process to checkpoint: give at least one pid');
  }
  for (const pid of unique) {
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      throw new FdcrError('FDCR_E_ARG_INVALID', `invalid pid: ${String(pid)}`);
    }
  }
  return unique;
}

function readProcess(pid: number): ProcessRecord {
  try {
    const stat = readProcStat(pid);
    return { pid, ppid: stat.ppid, comm: stat.comm, argv: readArgv(pid), cwd: readCwd(pid) };
  } catch (error) {
    throw error instanceof FdcrError ? error : procError(error, pid, 'the command line');
  }
}

/**
 * Checkpoints the open files of live processes into an image. The targets are frozen while
 * their descriptors are read and always thawed afterwards; their data is copied, never
 * consumed. On any error the partial image is removed and nothing else is left behind.
 */
export async function checkpoint(
  container: DependencyContainer,
  options: CheckpointOptions,
): Promise<CheckpointSummary> {
  const started = performance.now();
  const pids = resolveTargets(options);
  const plugins = resolvePlugins(container);
  const logger = container.resolve(LOGGER);
  const ownsWriter = !(options.output instanceof ImageWriter);
  const writer = options.output instanceof ImageWriter ? options.output : ImageWriter.create(options.output);
  let frozen: Frozen | undefined;
  let collected: CollectedFiles | undefined;
  try {
    for (const pid of pids) readProcStat(pid);
    frozen = options.freeze === false ? undefined : freezeProcesses(pids);
    const frozenAt = performance.now();
    collected = collectFiles(pids, options.fds);
    const progress = trackProgress('dump', countDescriptors(collected.groups), options.onProgress);
    const run = new CheckpointRun(writer, plugins, logger, pids, options, progress);
    run.writePreamble(pids.map(readProcess));
    await run.writeFiles(collected.groups);
    if (options.kill === true) {
      if (ownsWriter) writer.finish();
      killTargets(pids);
    }
    frozen?.thaw();
    const frozenMs = performance.now() - frozenAt;
    if (ownsWriter && options.kill !== true) writer.finish();
    progress?.finish();
    return {
      ...run.summary(),
      pids,
      frozenMs,
      imageBytes: writer.size,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    if (ownsWriter) writer.abort();
    throw error;
  } finally {
    frozen?.thaw();
    collected?.close();
  }
}

function killTargets(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: nothing left to kill.
    }
  }
}

function countDescriptors(groups: readonly (readonly FdProbe[])[]): number {
  let count = 0;
  for (const group of groups) count += group.length;
  return count;
}

/** The state of one checkpoint while it writes records. */
class CheckpointRun {
  private nextObject = 1;
  private nextStream = 1;
  private readonly entities = new Map<number, EntityRecord>();
  private descriptors = 0;
  private external = 0;
  private dataBytes = 0;
  private extras: ExtraFiles | undefined;

  constructor(
    private readonly writer: ImageWriter,
    private readonly plugins: readonly FdPlugin[],
    private readonly logger: Logger,
    private readonly pids: readonly number[],
    private readonly options: CheckpointOptions,
    private readonly progress?: ProgressTracker,
  ) {}

  writePreamble(processes: readonly ProcessRecord[]): void {
    const stamps = Object.fromEntries(
      this.plugins.map((p) => [p.meta.name, { version: p.meta.version, state: p.meta.stateVersion }]),
    );
    this.writer.writeHeader({
      format: FORMAT_MAJOR,
      minor: FORMAT_MINOR,
      fdcr: FDCR_VERSION,
      plugins: stamps,
      kernel: release(),
      arch: process.arch,
      host: hostname(),
      time: new Date().toISOString(),
      boot: readBootId(),
    });
    for (const record of processes) this.writer.writeProcess(record);
  }

  async writeFiles(groups: readonly (readonly FdProbe[])[]): Promise<void> {
    const files = this.openFiles(groups);
    const byPlugin = new Map<FdPlugin, OpenFile[]>();
    const unsupported: OpenFile[] = [];
    for (const file of files) {
      const found = classify(file, this.plugins);
      if (found.by === 'plugin') {
        const list = byPlugin.get(found.plugin) ?? [];
        list.push(file);
        byPlugin.set(found.plugin, list);
      } else if (found.reason === 'unsupported' && this.options.skipUnsupported !== true) {
        unsupported.push(file);
      } else {
        this.addExternal(file, found.reason);
      }
    }
    if (unsupported.length > 0) throw unsupportedError(unsupported);
    await this.runPlugins(files, byPlugin);
    this.writeDescriptors(files);
  }

  summary(): Omit<CheckpointSummary, 'pids' | 'frozenMs' | 'imageBytes' | 'durationMs'> {
    return {
      descriptors: this.descriptors,
      entities: this.entities.size,
      external: this.external,
      dataBytes: this.dataBytes,
    };
  }

  /** One OpenFile per open file description (groups come in the order of their first fd). */
  private openFiles(groups: readonly (readonly FdProbe[])[]): OpenFile[] {
    return groups.map((group, index) => openFileOf(group, index + 1));
  }

  /**
   * Runs the plugins whose files can carry other files first (see PluginMeta.carriesFiles),
   * so that the files in flight they find join the batch of the plugin that claims them.
   */
  private async runPlugins(
    files: readonly OpenFile[],
    byPlugin: ReadonlyMap<FdPlugin, OpenFile[]>,
  ): Promise<void> {
    const external = new Set(
      [...this.entities.values()].filter((e) => e.plugin === EXTERNAL_PLUGIN).map((e) => e.id),
    );
    this.extras = new ExtraFiles(files, external, this.plugins, files.length + 1);
    const carriers = this.plugins.filter((p) => p.meta.carriesFiles === true);
    const others = this.plugins.filter((p) => p.meta.carriesFiles !== true);
    const order = [...carriers, ...others];
    try {
      for (const plugin of order) {
        this.extras.start(plugin);
        const list = [...(byPlugin.get(plugin) ?? []), ...this.extras.take(plugin)];
        if (list.length > 0) await this.runPlugin(plugin, list);
      }
    } finally {
      this.extras.close();
    }
  }

  private async runPlugin(plugin: FdPlugin, files: readonly OpenFile[]): Promise<void> {
    this.logger.debug(`fdcr:core:dump: ${plugin.meta.name} checkpoints ${files.length} open files`);
    await plugin.checkpoint(files, this.context(plugin));
    this.progress?.files(files.reduce((n, f) => n + f.holders.length, 0));
    const missed = files.filter((f) => this.entities.get(f.entityId)?.plugin !== plugin.meta.name);
    if (missed.length > 0) {
      throw new FdcrError('FDCR_E_INTERNAL', `plugin ${plugin.meta.name} recorded no entity for ${missed.map(describeProbe).join(', ')}`);
    }
  }

  private context(plugin: FdPlugin): CheckpointContext {
    return {
      logger: this.logger,
      pids: this.pids,
      options: (this.options.pluginOptions?.[plugin.meta.name] ?? {}) as Record<string, unknown>,
      addObject: (kind, state) => {
        const id = this.nextObject++;
        this.writer.writeObject({ id, plugin: plugin.meta.name, kind, state });
        return id;
      },
      addEntity: (file, input) => {
        if (this.entities.has(file.entityId)) {
          throw new FdcrError('FDCR_E_INTERNAL', `plugin ${plugin.meta.name} recorded entity ${file.entityId} twice`);
        }
        const record: EntityRecord = {
          id: file.entityId,
          plugin: plugin.meta.name,
          kind: input.kind,
          flags: input.flags ?? file.info.flags,
          object: input.object,
          state: input.state,
        };
        this.entities.set(record.id, record);
        this.writer.writeEntity(record);
      },
      checkpointExtra: (localFd, via) => {
        if (this.extras === undefined) throw new FdcrError('FDCR_E_INTERNAL', 'checkpointExtra called outside a plugin run');
        return this.extras.register(localFd, via);
      },
      newStream: () => this.nextStream++,
      writeData: (stream, data, message, extra) => {
        this.dataBytes += data.length;
        this.writer.writeData(stream, data, message, extra);
        this.progress?.data(data.length);
      },
    };
  }

  private addExternal(file: OpenFile, reason: string): void {
    const record: EntityRecord = {
      id: file.entityId,
      plugin: EXTERNAL_PLUGIN,
      kind: reason,
      flags: file.info.flags,
      state: { link: file.link },
    };
    this.entities.set(record.id, record);
    this.external++;
    this.writer.writeEntity(record);
  }

  private writeDescriptors(files: readonly OpenFile[]): void {
    for (const file of files) {
      for (const holder of file.holders) {
        this.writer.writeDescriptor({
          pid: holder.pid,
          fd: holder.fd,
          cloexec: holder.cloexec,
          entity: file.entityId,
        });
        this.descriptors++;
      }
    }
  }
}

function unsupportedError(files: readonly OpenFile[]): FdcrError {
  const list = files.flatMap((f) =>
    f.holders.map((h) => `pid ${h.pid} fd ${h.fd} -> ${f.link.toString('utf8')}`),
  );
  return new FdcrError(
    'FDCR_E_DUMP_UNSUPPORTED_FD',
    `${list.length} descriptor(s) have no plugin that handles them: ${list.join('; ')}`,
    {
      pid: files[0]?.pid,
      fd: files[0]?.fd,
      hint: 'use --skip-unsupported to record them as external (not restored), or add a plugin for them',
    },
  );
}
