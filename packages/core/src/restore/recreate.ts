import type { DependencyContainer } from 'tsyringe';
import { FdcrError, isFdcrError } from '../errors/fdcr-error.js';
import type { ImageReader } from '../image/image-reader.js';
import { closeQuietly, raiseNofileLimit } from '../linux/syscalls.js';
import { EXTERNAL_PLUGIN, type DataChunk, type EntityRecord, type ImageContents } from '../model/records.js';
import type { FdPlugin, RestoreContext } from '../plugin/fd-plugin.js';
import type { Logger } from '../plugin/logger.js';
import { resolvePlugins } from '../plugin/registry.js';
import { LOGGER } from '../plugin/tokens.js';
import { trackProgress, type ProgressListener, type ProgressTracker } from '../api/progress.js';

/** The fds fdcr holds for recreated entities, until they are handed over or closed. */
export interface RecreatedFiles {
  /** fd in this process for each recreated entity id. */
  readonly fds: ReadonlyMap<number, number>;
  /** Closes every fd; safe to call twice. */
  close(): void;
}

/**
 * Checks, before anything is created, that every entity has a registered plugin that can
 * read its records.
 */
export function checkPlugins(contents: ImageContents, plugins: readonly FdPlugin[]): void {
  const byName = new Map(plugins.map((p) => [p.meta.name, p]));
  const needed = new Set(contents.entities.map((e) => e.plugin).filter((n) => n !== EXTERNAL_PLUGIN));
  for (const name of needed) {
    const plugin = byName.get(name);
    if (plugin === undefined) {
      throw new FdcrError('FDCR_E_PLUGIN_MISSING', `the image needs plugin ${name}, which is not registered`, {
        hint: `install and register the fdcr plugin named ${name}`,
      });
    }
    const written = contents.header.plugins[name]?.state ?? 1;
    if (written > plugin.meta.stateVersion) {
      throw new FdcrError(
        'FDCR_E_PLUGIN_VERSION',
        `the image holds ${name} records of version ${written}; the registered plugin reads up to ${plugin.meta.stateVersion}`,
        { hint: `upgrade the ${name} plugin` },
      );
    }
  }
}

/**
 * Recreates entities through their plugins, all or nothing: if any plugin fails, every fd
 * created so far is closed before the error is thrown.
 */
export async function recreateEntities(
  container: DependencyContainer,
  reader: ImageReader,
  options: {
    only?: ReadonlySet<number>;
    pluginOptions?: Readonly<Record<string, unknown>>;
    onProgress?: ProgressListener;
  } = {},
): Promise<RecreatedFiles> {
  const plugins = resolvePlugins(container);
  const { contents } = reader;
  checkPlugins(contents, plugins);
  const fds = new Map<number, number>();
  const close = (): void => {
    for (const fd of fds.values()) closeQuietly(fd);
    fds.clear();
  };
  const only = options.only === undefined ? undefined : withInFlight(contents, options.only);
  const wanted = contents.entities.filter((e) => e.plugin !== EXTERNAL_PLUGIN && (only?.has(e.id) ?? true));
  const progress = trackProgress('restore', wanted.length, options.onProgress);
  try {
    // fdcr holds every recreated fd at once, plus a few temporaries per entity.
    raiseNofileLimit(2 * wanted.length + 1024);
    for (const plugin of restoreOrder(plugins)) {
      const mine = wanted.filter((e) => e.plugin === plugin.meta.name);
      if (mine.length === 0) continue;
      const logger = container.resolve(LOGGER);
      const ctx = makeContext(logger, reader, fds, plugin, options.pluginOptions, progress);
      await runRestore(plugin, mine, ctx);
      progress?.files(mine.length);
      const missing = mine.filter((e) => !fds.has(e.id));
      if (missing.length > 0) {
        throw new FdcrError('FDCR_E_INTERNAL', `plugin ${plugin.meta.name} did not restore entities ${missing.map((e) => e.id).join(', ')}`);
      }
    }
    progress?.finish();
  } catch (error) {
    close();
    throw error;
  }
  return { fds, close };
}

/**
 * Plugins that carry files (PluginMeta.carriesFiles) restore after the others, so that the
 * fds of the files they pass on exist; among themselves in reverse registration order, the
 * reverse of the checkpoint, where a carrier can only find files of carriers after it.
 */
export function restoreOrder(plugins: readonly FdPlugin[]): FdPlugin[] {
  const carriers = plugins.filter((p) => p.meta.carriesFiles === true).reverse();
  return [...plugins.filter((p) => p.meta.carriesFiles !== true), ...carriers];
}

/**
 * `only` plus every entity that no descriptor holds: files in flight, which only their
 * carrier refers to (in its own records), so any chosen carrier may need them.
 */
function withInFlight(contents: ImageContents, only: ReadonlySet<number>): Set<number> {
  const held = new Set(contents.descriptors.map((d) => d.entity));
  const unheld = contents.entities.filter((e) => !held.has(e.id)).map((e) => e.id);
  return new Set([...only, ...unheld]);
}

async function runRestore(plugin: FdPlugin, entities: EntityRecord[], ctx: RestoreContext): Promise<void> {
  try {
    await plugin.restore(entities, ctx);
  } catch (error) {
    if (isFdcrError(error)) throw error;
    throw new FdcrError('FDCR_E_RESTORE_FAILED', `plugin ${plugin.meta.name} failed to restore: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function makeContext(
  logger: Logger,
  reader: ImageReader,
  fds: Map<number, number>,
  plugin: FdPlugin,
  pluginOptions: Readonly<Record<string, unknown>> | undefined,
  progress?: ProgressTracker,
): RestoreContext {
  const { contents } = reader;
  return {
    logger,
    options: (pluginOptions?.[plugin.meta.name] ?? {}) as Record<string, unknown>,
    header: contents.header,
    objects: new Map(contents.objects.map((o) => [o.id, o])),
    entities: new Map(contents.entities.map((e) => [e.id, e])),
    data: (stream) => (progress === undefined ? reader.data(stream) : counted(reader.data(stream), progress)),
    provide: (entityId, fd) => {
      if (fds.has(entityId)) {
        closeQuietly(fd);
        throw new FdcrError('FDCR_E_INTERNAL', `plugin ${plugin.meta.name} provided entity ${entityId} twice`);
      }
      fds.set(entityId, fd);
    },
    fdOf: (entityId) => fds.get(entityId),
  };
}

/** Passes chunks through, counting their bytes as progress. */
function* counted(chunks: Iterable<DataChunk>, progress: ProgressTracker): Iterable<DataChunk> {
  for (const chunk of chunks) {
    progress.data(chunk.data.length);
    yield chunk;
  }
}
