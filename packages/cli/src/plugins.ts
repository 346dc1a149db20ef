import 'reflect-metadata';
import { createFdcrContainer, registerPlugin } from '@fdcr/core';
import type { DependencyContainer } from 'tsyringe';
import { filePlugin } from '@fdcr/plugin-file';
import { pipePlugin } from '@fdcr/plugin-pipe';
import { socketpairPlugin } from '@fdcr/plugin-socketpair';

/** A container for one CLI run with every built-in plugin registered, most specific first. */
export function cliContainer(): DependencyContainer {
  const container = createFdcrContainer();
  registerPlugin(container, pipePlugin());
  registerPlugin(container, socketpairPlugin());
  registerPlugin(container, filePlugin());
  return container;
}
