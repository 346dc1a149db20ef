import { kcmpFiles } from '../linux/syscalls.js';
import type { FdProbe } from '../plugin/fd-plugin.js';

/**
 * Groups descriptors that refer to one open file description (after dup() or fork()).
 *
 * Descriptors can only share a description if they agree on device, inode, status flags
 * and offset, so they are bucketed by that key first; inside a bucket kcmp(KCMP_FILE)
 * orders them by the kernel's struct file, and a sort with it as comparator leaves each
 * group contiguous. That is O(n log n) kcmp calls at worst, never all pairs.
 */
export function groupSharedFiles(probes: readonly FdProbe[]): FdProbe[][] {
  const buckets = new Map<string, FdProbe[]>();
  for (const probe of probes) {
    const { stat, info } = probe;
    const key = `${stat.dev}:${stat.ino}:${stat.rdev}:${info.flags}:${info.pos}`;
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, [probe]);
    else bucket.push(probe);
  }
  const groups: FdProbe[][] = [];
  for (const bucket of buckets.values()) {
    if (bucket.length === 1) {
      groups.push(bucket);
      continue;
    }
    bucket.sort((a, b) => kcmpFiles(a.localFd, b.localFd));
    let current: FdProbe[] = [bucket[0] as FdProbe];
    for (let i = 1; i < bucket.length; i++) {
      const probe = bucket[i] as FdProbe;
      if (kcmpFiles(current[0]!.localFd, probe.localFd) === 0) current.push(probe);
      else groups.push(current), (current = [probe]);
    }
    groups.push(current);
  }
  return groups;
}
