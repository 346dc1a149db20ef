import type { FdPlugin, FdProbe } from '../plugin/fd-plugin.js';
import { S_IFCHR, S_IFMT } from '../linux/constants.js';

/** Major numbers of terminal devices: the tty/console majors and the pty slaves. */
function isTerminal(probe: FdProbe): boolean {
  if ((Number(probe.stat.mode) & S_IFMT) !== S_IFCHR) return false;
  const major = Number((probe.stat.rdev >> 8n) & 0xfffn);
  return major === 4 || major === 5 || (major >= 136 && major <= 143);
}

/** How one open file will be saved: by a plugin, or as an external reference. */
export type Classification =
  | { by: 'plugin'; plugin: FdPlugin }
  | { by: 'external'; reason: 'terminal' | 'unsupported' };

/**
 * The single classifier: terminals on fds 0-2 are the caller's to provide at restore;
 * otherwise the first registered plugin that claims the fd handles it; else it is unsupported.
 */
export function classify(probe: FdProbe, plugins: readonly FdPlugin[]): Classification {
  if (probe.fd <= 2 && isTerminal(probe)) {
    return { by: 'external', reason: 'terminal' };
  }
  const plugin = plugins.find((p) => p.claims(probe));
  return plugin === undefined ? { by: 'external', reason: 'unsupported' } : { by: 'plugin', plugin };
}

/** A readable name for what an fd points at, for error messages. */
export function describeProbe(probe: FdProbe): string {
  if (probe.via !== undefined) return `a descriptor in flight in ${probe.via} -> ${probe.link.toString('utf8')}`;
  return `pid ${probe.pid} fd ${probe.fd} -> ${probe.link.toString('utf8')}`;
}
