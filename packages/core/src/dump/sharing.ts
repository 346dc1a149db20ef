import { kcmpFilesOf } from '../linux/syscalls.js';
import type { FdProbe } from '../plugin/fd-plugin.js';

/** What grouping needs of a descriptor: whose it is and what /proc says about it. */
export type SharingKey = Pick<FdProbe, 'pid' | 'fd' | 'stat' | 'info'>;

const compare = (a: SharingKey, b: SharingKey): number => kcmpFilesOf(a.pid, a.fd, b.pid, b.fd);

/**
 * Groups descriptors that refer to one open file description (after dup() or fork()),
 * within one process or across several: kcmp(KCMP_FILE) compares descriptors of two
 * processes directly, so nothing needs to be duplicated into fdcr first.
 *
 * Descriptors can only share a description if they agree on device, inode, status flags
 * and offset, so they are bucketed by that key first. Inside a bucket, everything that
 * shares the first descriptor's description is split off with one kcmp each (the common
 * case: one description inherited by many processes); what remains is sorted with kcmp as
 * comparator, which orders by the kernel's struct file and leaves each group contiguous.
 * That is O(n log n) kcmp calls at worst, never all pairs.
 */
export function groupSharedFiles<T extends SharingKey>(probes: readonly T[]): T[][] {
  const groups: T[][] = [];
  for (const bucket of bucketsOf(probes)) {
    if (bucket.length === 1) groups.push(bucket);
    else splitBucket(bucket, groups);
  }
  return groups;
}

function bucketsOf<T extends SharingKey>(probes: readonly T[]): Iterable<T[]> {
  const buckets = new Map<string, T[]>();
  for (const probe of probes) {
    const { stat, info } = probe;
    const key = `${stat.dev}:${stat.ino}:${stat.rdev}:${info.flags}:${info.pos}`;
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, [probe]);
    else bucket.push(probe);
  }
  return buckets.values();
}

function splitBucket<T extends SharingKey>(bucket: T[], groups: T[][]): void {
  const first = bucket[0] as T;
  const same: T[] = [first];
  const rest: T[] = [];
  for (let i = 1; i < bucket.length; i++) {
    const probe = bucket[i] as T;
    if (compare(first, probe) === 0) same.push(probe);
    else rest.push(probe);
  }
  groups.push(same);
  if (rest.length <= 1) {
    if (rest.length === 1) groups.push(rest);
    return;
  }
  rest.sort(compare);
  let current: T[] = [rest[0] as T];
  for (let i = 1; i < rest.length; i++) {
    const probe = rest[i] as T;
    if (compare(current[0] as T, probe) === 0) current.push(probe);
    else groups.push(current), (current = [probe]);
  }
  groups.push(current);
}
