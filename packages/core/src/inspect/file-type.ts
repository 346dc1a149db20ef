import type { FdProbe } from '../plugin/fd-plugin.js';
import * as c from '../linux/constants.js';

/** What kind of file a descriptor refers to, as `fdcr inspect` names it. */
export type FileType = 'pipe' | 'fifo' | 'socket' | 'file' | 'dir' | 'chr' | 'blk' | 'symlink' | 'anon' | 'unknown';

/** The file type of a probed descriptor, from its mode and /proc link. */
export function fileType(probe: Pick<FdProbe, 'stat' | 'link'>): FileType {
  const format = Number(probe.stat.mode) & c.S_IFMT;
  const link = probe.link.toString('latin1');
  if (format === c.S_IFIFO) return link.startsWith('pipe:[') ? 'pipe' : 'fifo';
  if (format === c.S_IFSOCK) return 'socket';
  if (link.startsWith('anon_inode:')) return 'anon';
  if (format === c.S_IFREG) return 'file';
  if (format === c.S_IFDIR) return 'dir';
  if (format === c.S_IFCHR) return 'chr';
  if (format === c.S_IFBLK) return 'blk';
  if (format === c.S_IFLNK) return 'symlink';
  return 'unknown';
}

/** Status flags worth showing, in the order `open(2)` lists them. */
const STATUS_FLAGS: readonly (readonly [string, number])[] = [
  ['O_APPEND', c.O_APPEND],
  ['O_NONBLOCK', c.O_NONBLOCK],
  ['O_SYNC', c.O_SYNC],
  ['O_DSYNC', c.O_DSYNC],
  ['O_ASYNC', c.O_ASYNC],
  ['O_DIRECT', c.O_DIRECT],
  ['O_NOATIME', c.O_NOATIME],
  ['O_PATH', c.O_PATH],
  ['O_DIRECTORY', c.O_DIRECTORY],
];

/** The names of the status flags set in f_flags (O_SYNC is reported instead of its O_DSYNC bit). */
export function statusFlagNames(flags: number): string[] {
  const names: string[] = [];
  for (const [name, bits] of STATUS_FLAGS) {
    if ((flags & bits) !== bits) continue;
    if (name === 'O_DSYNC' && (flags & c.O_SYNC) === c.O_SYNC) continue;

    names.push(name);
  }
  return names;
}

/** `r`, `w` or `rw`: the access mode of f_flags. */
export function accessMode(flags: number): 'r' | 'w' | 'rw' {
  const mode = flags & c.O_ACCMODE;
  return mode === c.O_RDONLY ? 'r' : mode === c.O_WRONLY ? 'w' : 'rw';
}
