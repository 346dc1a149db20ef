import { fstatSync } from 'node:fs';
import { FdcrError } from '../errors/fdcr-error.js';
import { readFdInfo, readFdLink } from '../linux/proc.js';
import { closeQuietly, dupCloexec, kcmpFiles } from '../linux/syscalls.js';
import type { FdPlugin, FdProbe, OpenFile } from '../plugin/fd-plugin.js';
import { classify } from './classify.js';

/** An open file known to the checkpoint, with fdcr's descriptor of it for kcmp. */
interface Known {
  entityId: number;
  localFd: number;
}

function identity(probe: Pick<FdProbe, 'stat'>): string {
  return `${probe.stat.dev}:${probe.stat.ino}`;
}

function unsupported(link: Buffer, via: string, why: string): FdcrError {
  return new FdcrError(
    'FDCR_E_DUMP_UNSUPPORTED_FD',
    `cannot checkpoint a descriptor in flight in ${via} -> ${link.toString('utf8')}: ${why}`,
    { hint: 'let the application receive the passed descriptors before dumping it' },
  );
}

/**
 * The files a plugin finds inside its own (descriptors in flight in a socket queue) while a
 * checkpoint runs. Each is matched against every open file already known, by inode then
 * kcmp: a file a target also holds, or one already found, keeps its entity. A new one gets
 * an entity id and waits for the plugin that claims it, which must not have run yet.
 */
export class ExtraFiles {
  private readonly known = new Map<string, Known[]>();
  private readonly pending = new Map<FdPlugin, OpenFile[]>();
  private readonly started = new Set<FdPlugin>();
  private readonly local: number[] = [];

  constructor(
    files: readonly OpenFile[],
    private readonly external: ReadonlySet<number>,
    private readonly plugins: readonly FdPlugin[],
    private nextEntity: number,
  ) {
    for (const file of files) {
      this.remember(identity(file), { entityId: file.entityId, localFd: file.localFd });
    }
  }

  /** Marks a plugin as running: files found later that it claims can no longer join its batch. */
  start(plugin: FdPlugin): void {
    this.started.add(plugin);
  }

  /** The files found for `plugin` so far, which it checkpoints with its own. */
  take(plugin: FdPlugin): OpenFile[] {
    const files = this.pending.get(plugin) ?? [];
    this.pending.delete(plugin);
    return files;
  }

  /** The entity id of fdcr's descriptor `localFd`, found in flight in `via`. */
  register(localFd: number, via: string): number {
    const stat = fstatSync(localFd, { bigint: true });
    const found = this.find(identity({ stat }), localFd);
    if (found !== undefined) {
      if (this.external.has(found)) throw unsupported(readFdLink(process.pid, localFd), via, `it is also open in a target as a descriptor fdcr does not recreate`);
      return found;
    }
    const own = dupCloexec(localFd);
    this.local.push(own);
    return this.add({
      pid: process.pid,
      fd: own,
      localFd: own,
      stat,
      info: readFdInfo(process.pid, own),
      link: readFdLink(process.pid, own),
      via,
    });
  }

  /** Closes fdcr's duplicates of the files found; call once the checkpoint is written. */
  close(): void {
    for (const fd of this.local) closeQuietly(fd);
    this.local.length = 0;
  }

  // Limitation: a file in flight claimed by a plugin that has already run (a socketpair end
  // in flight that no target holds) is refused: that plugin cannot take a second batch.
  private add(probe: FdProbe): number {
    const found = classify(probe, this.plugins);
    if (found.by !== 'plugin') throw unsupported(probe.link, probe.via ?? '?', 'no plugin handles it');
    if (this.started.has(found.plugin)) {
      throw unsupported(probe.link, probe.via ?? '?', `plugin ${found.plugin.meta.name} has already checkpointed its files (a file of its own kind in flight is not supported)`);
    }
    const entityId = this.nextEntity++;
    const list = this.pending.get(found.plugin) ?? [];
    list.push({ ...probe, entityId, holders: [] });
    this.pending.set(found.plugin, list);
    this.remember(identity(probe), { entityId, localFd: probe.localFd });
    return entityId;
  }

  private find(key: string, localFd: number): number | undefined {
    for (const known of this.known.get(key) ?? []) {
      if (kcmpFiles(localFd, known.localFd) === 0) return known.entityId;
    }
    return undefined;
  }

  private remember(key: string, known: Known): void {
    const list = this.known.get(key);
    if (list === undefined) this.known.set(key, [known]);
    else list.push(known);
  }
}
