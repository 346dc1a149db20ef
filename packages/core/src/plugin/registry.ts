import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { FdcrError } from '../errors/fdcr-error.js';
import { PLUGIN_API_VERSION, type FdPlugin } from './fd-plugin.js';
import { silentLogger } from './logger.js';
import { FD_PLUGIN, LOGGER } from './tokens.js';
import { EXTERNAL_PLUGIN } from '../model/records.js';

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** A child container for one fdcr run (or one test), with a silent logger by default. */
export function createFdcrContainer(parent: DependencyContainer = rootContainer): DependencyContainer {
  const child = parent.createChildContainer();
  if (!child.isRegistered(LOGGER, true)) {
    child.register(LOGGER, { useValue: silentLogger });
  }
  return child;
}

/** The plugins registered in a container, in registration order. */
export function resolvePlugins(container: DependencyContainer): FdPlugin[] {
  return container.isRegistered(FD_PLUGIN, true) ? container.resolveAll(FD_PLUGIN) : [];
}

function validate(plugin: FdPlugin): void {
  const meta = plugin?.meta;
  const name = meta?.name ?? '(unnamed)';
  const missing = ['claims', 'checkpoint', 'restore'].filter(
    (op) => typeof (plugin as unknown as Record<string, unknown>)?.[op] !== 'function',
  );
  if (meta === undefined || typeof meta.name !== 'string' || !NAME.test(meta.name) || missing.length > 0) {
    throw new FdcrError(
      'FDCR_E_PLUGIN_INVALID',
      `plugin ${name} is invalid: ${missing.length > 0 ? `missing ${missing.join(', ')}` : 'its meta.name must match ' + NAME.source}`,
    );
  }
  if (meta.apiVersion !== PLUGIN_API_VERSION) {
    throw new FdcrError(
      'FDCR_E_PLUGIN_INCOMPATIBLE',
      `plugin ${name} implements plugin API ${meta.apiVersion}, this fdcr core implements ${PLUGIN_API_VERSION}`,
      { hint: 'install a version of the plugin built for this @fdcr/core' },
    );
  }
  if (typeof meta.version !== 'string' || meta.version === '') {
    throw new FdcrError('FDCR_E_PLUGIN_INVALID', `plugin ${name} has an invalid version: ${String(meta.version)}`);
  }
  if (!Number.isInteger(meta.stateVersion) || meta.stateVersion < 1) {
    throw new FdcrError('FDCR_E_PLUGIN_INVALID', `plugin ${name} has an invalid stateVersion: ${meta.stateVersion}`);
  }
  if (meta.carriesFiles !== undefined && typeof meta.carriesFiles !== 'boolean') {
    throw new FdcrError('FDCR_E_PLUGIN_INVALID', `plugin ${name} has an invalid carriesFiles: ${String(meta.carriesFiles)}`);
  }
}

/**
 * Registers an fd-type plugin in a container after checking its contract; a second plugin
 * of the same name, or one built for another plugin API, is rejected.
 */
export function registerPlugin(container: DependencyContainer, plugin: FdPlugin): void {
  validate(plugin);
  const name = plugin.meta.name;
  if (name === EXTERNAL_PLUGIN || resolvePlugins(container).some((p) => p.meta.name === name)) {
    throw new FdcrError('FDCR_E_PLUGIN_DUPLICATE', `a plugin named ${name} is already registered`);
  }
  container.register(FD_PLUGIN, { useValue: plugin });
}
