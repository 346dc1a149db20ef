import type { InjectionToken } from 'tsyringe';
import type { FdPlugin } from './fd-plugin.js';
import type { Logger } from './logger.js';

/** Token under which every fd-type plugin is registered (resolved with `resolveAll`). */
export const FD_PLUGIN: InjectionToken<FdPlugin> = Symbol.for('fdcr.FdPlugin');

/** Token of the Logger fdcr writes to. */
export const LOGGER: InjectionToken<Logger> = Symbol.for('fdcr.Logger');
