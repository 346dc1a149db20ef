import { FdcrError, isFdcrError, linux } from '@fdcr/core';
import { showPath } from '../link.js';
import { AT_FDCWD, openat2, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS } from '../sys.js';

/** Where recorded absolute paths are opened: the real root, or a directory standing for it. */
export interface PathBase {
  /** Directory fd of --root, or undefined for the real root. */
  rootFd?: number;
  /** The --root directory, for messages. */
  root?: string;
}

/** Opens the --root directory; the caller closes `rootFd`. */
export function openBase(root: string | undefined): PathBase {
  if (root === undefined) return {};
  try {
    const rootFd = openat2(AT_FDCWD, Buffer.from(root), linux.O_PATH | linux.O_DIRECTORY, 0, 0);
    return { rootFd, root };
  } catch (error) {
    throw new FdcrError('FDCR_E_ARG_INVALID', `invalid --root '${root}': ${(error as FdcrError).errno ?? error}`, {
      path: root,
      cause: error,
      hint: '--root must name an existing directory',
    });
  }
}

/** An absolute path made relative to the root: `/a/b` is `a/b`, `/` is `.`. */
export function relativeToRoot(path: Uint8Array): Buffer {
  let start = 0;
  while (path[start] === 0x2f) start++;
  return start === path.length ? Buffer.from('.') : Buffer.from(path.subarray(start));
}

function openError(error: unknown, path: Uint8Array, base: PathBase, what: string): FdcrError {
  const errno = isFdcrError(error) ? error.errno : undefined;
  const shown = showPath(path);
  const where = base.root === undefined ? '' : ` under root ${JSON.stringify(base.root)}`;
  const details = { path: Buffer.from(path).toString('utf8'), errno, cause: error };
  if (errno === 'EXDEV') {
    return new FdcrError('FDCR_E_FILE_OUTSIDE_ROOT', `cannot restore ${shown} (${what}): it resolves outside the root${where}`, details);
  }
  if (errno === 'ENOENT') {
    return new FdcrError('FDCR_E_FILE_MISSING', `cannot restore ${shown} (${what}): no such file${where}`, details);
  }
  return new FdcrError('FDCR_E_FILE_REOPEN', `cannot reopen ${shown} (${what})${where}: ${errno ?? String(error)}`, details);
}

/**
 * Opens a recorded absolute path, under the root when there is one. With a root, openat2's
 * RESOLVE_BENEATH makes the kernel refuse (EXDEV) any `..` or symbolic link that would lead
 * out of it, checked during the lookup itself so a concurrent rename cannot slip past.
 */
export function openRecorded(
  base: PathBase,
  path: Uint8Array,
  flags: number,
  mode: number,
  what: string,
): number {
  try {
    if (base.rootFd === undefined) return openat2(AT_FDCWD, path, flags, mode, 0);
    return openat2(base.rootFd, relativeToRoot(path), flags, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
  } catch (error) {
    throw openError(error, path, base, what);
  }
}
