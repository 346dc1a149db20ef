import { resolve } from 'node:path';
import { FdcrError } from '@fdcr/core';

/** Default for `maxDeletedBytes`: data of one deleted-but-open file copied into the image. */
export const DEFAULT_MAX_DELETED_BYTES = 64 * 1024 * 1024;

/** Options of the file plugin (`pluginOptions.file`). */
export interface FileOptions {
  /** Restore files that changed since the checkpoint instead of refusing them. */
  allowChanged: boolean;
  /** Largest amount of data (holes excluded) copied from one deleted-but-open file. */
  maxDeletedBytes: number;
  /** Directory that recorded absolute paths are resolved under at restore. */
  root?: string;
}

function invalid(name: string, value: unknown, expected: string): FdcrError {
  return new FdcrError('FDCR_E_ARG_INVALID', `invalid file plugin option ${name}: ${JSON.stringify(value)} (expected ${expected})`);
}

/** Reads and checks the plugin options given by the caller; bad values are echoed. */
export function parseFileOptions(options: Readonly<Record<string, unknown>>): FileOptions {
  const { allowChanged, maxDeletedBytes, root } = options;
  if (allowChanged !== undefined && typeof allowChanged !== 'boolean') {
    throw invalid('allowChanged', allowChanged, 'a boolean');
  }
  const max = maxDeletedBytes ?? DEFAULT_MAX_DELETED_BYTES;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) {
    throw invalid('maxDeletedBytes', maxDeletedBytes, 'a non-negative integer');
  }
  if (root !== undefined && (typeof root !== 'string' || root === '')) {
    throw invalid('root', root, 'a directory path');
  }
  return {
    allowChanged: allowChanged === true,
    maxDeletedBytes: max,
    root: root === undefined ? undefined : resolve(root),
  };
}

const SIZE = /^([0-9]+)\s*([kmgt]?)(i?b)?$/i;

/** Parses a size such as `1048576`, `64M`, `64MiB` or `2g` (binary units) into bytes. */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (match === null) return undefined;
  const power = ' kmgt'.indexOf((match[2] ?? '').toLowerCase() || ' ');
  const bytes = Number(match[1]) * 1024 ** power;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
