// tsyringe needs the Reflect metadata polyfill loaded before it is.
import 'reflect-metadata';
import { container as rootContainer } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { FdcrError } from '../errors/fdcr-error.js';
import { PLUGIN_API_VERSION, type FdPlugin, type PluginMeta } from './fd-plugin.js';
import type { Logger } from './logger.js';
import { createFdcrContainer, registerPlugin, resolvePlugins } from './registry.js';
import { LOGGER } from './tokens.js';

function plugin(meta: Partial<PluginMeta> = {}): FdPlugin {
  return {
    meta: {
      name: 'pipe',
      version: '1.0.0',
      apiVersion: PLUGIN_API_VERSION,
      stateVersion: 1,
      description: 'test plugin',
      ...meta,
    },
    claims: () => false,
    checkpoint: () => undefined,
    restore: () => undefined,
  };
}

function registrationError(register: () => void): FdcrError {
  try {
    register();
  } catch (error) {
    expect(error).toBeInstanceOf(FdcrError);
    return error as FdcrError;
  }
  throw new Error('the plugin was registered');
}

describe('createFdcrContainer', () => {
  it('gives each run its own plugins', () => {
    const first = createFdcrContainer();
    const second = createFdcrContainer();
    registerPlugin(first, plugin());

    expect(resolvePlugins(first)).toHaveLength(1);
    expect(resolvePlugins(second)).toEqual([]);
    expect(resolvePlugins(rootContainer)).toEqual([]);
  });

  it('provides a silent logger unless the parent has one', () => {
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined };
    const parent = createFdcrContainer();
    parent.register(LOGGER, { useValue: logger });

    expect(createFdcrContainer(parent).resolve(LOGGER)).toBe(logger);
    expect(() => createFdcrContainer().resolve(LOGGER).warn('dropped')).not.toThrow();
  });
});

describe('resolvePlugins', () => {
  it('returns no plugins from an empty container', () => {
    expect(resolvePlugins(createFdcrContainer())).toEqual([]);
  });

  it('returns plugins in registration order', () => {
    const container = createFdcrContainer();
    const names = ['socketpair', 'pipe', 'file'];
    for (const name of names) registerPlugin(container, plugin({ name }));

    expect(resolvePlugins(container).map((p) => p.meta.name)).toEqual(names);
  });

  it('returns the registered instances themselves', () => {
    const container = createFdcrContainer();
    const instance = plugin();
    registerPlugin(container, instance);

    expect(resolvePlugins(container)[0]).toBe(instance);
  });
});

describe('registerPlugin', () => {
  it('rejects a second plugin of the same name with FDCR_E_PLUGIN_DUPLICATE', () => {
    const container = createFdcrContainer();
    registerPlugin(container, plugin({ version: '1.0.0' }));
    const error = registrationError(() => registerPlugin(container, plugin({ version: '2.0.0' })));

    expect(error.code).toBe('FDCR_E_PLUGIN_DUPLICATE');
    expect(error.message).toContain('pipe');
    expect(resolvePlugins(container)).toHaveLength(1);
  });

  it('rejects the reserved name external with FDCR_E_PLUGIN_DUPLICATE', () => {
    const error = registrationError(() => registerPlugin(createFdcrContainer(), plugin({ name: 'external' })));

    expect(error.code).toBe('FDCR_E_PLUGIN_DUPLICATE');
  });

  it.each([PLUGIN_API_VERSION - 1, PLUGIN_API_VERSION + 1])(
    'rejects a plugin for plugin API %i with FDCR_E_PLUGIN_INCOMPATIBLE and a hint',
    (apiVersion) => {
      const container = createFdcrContainer();
      const error = registrationError(() => registerPlugin(container, plugin({ apiVersion })));

      expect(error.code).toBe('FDCR_E_PLUGIN_INCOMPATIBLE');
      expect(error.message).toContain(`plugin API ${apiVersion}`);
      expect(error.hint).toBeDefined();
      expect(resolvePlugins(container)).toEqual([]);
    },
  );

  it.each([
    ['no meta', { claims: () => false, checkpoint: () => undefined, restore: () => undefined }],
    ['no claims', { ...plugin(), claims: undefined }],
    ['no checkpoint', { ...plugin(), checkpoint: 'checkpoint' }],
    ['no restore', { ...plugin(), restore: undefined }],
    ['an empty name', plugin({ name: '' })],
    ['a name with capitals', plugin({ name: 'Pipe' })],
    ['a name with a slash', plugin({ name: 'net/unix' })],
    ['a name starting with a digit', plugin({ name: '9p' })],
    ['a name of 33 characters', plugin({ name: 'a'.repeat(33) })],
    ['a non-string name', plugin({ name: 42 as unknown as string })],
    ['stateVersion 0', plugin({ stateVersion: 0 })],
    ['a fractional stateVersion', plugin({ stateVersion: 1.5 })],
    ['a missing stateVersion', plugin({ stateVersion: undefined })],
    ['null', null],
  ])('rejects a plugin with %s with FDCR_E_PLUGIN_INVALID', (_what, candidate) => {
    const container = createFdcrContainer();
    const error = registrationError(() => registerPlugin(container, candidate as unknown as FdPlugin));

    expect(error.code).toBe('FDCR_E_PLUGIN_INVALID');
    expect(resolvePlugins(container)).toEqual([]);
  });

  it('accepts names of 1 to 32 lowercase letters, digits and dashes', () => {
    const container = createFdcrContainer();
    for (const name of ['a', 'plugin-file', 'x'.repeat(32), 'net2']) registerPlugin(container, plugin({ name }));

    expect(resolvePlugins(container)).toHaveLength(4);
  });
});
