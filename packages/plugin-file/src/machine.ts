import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The kernel's boot id: inode and device numbers only identify a file within one boot of
 * one machine, so they are compared only when the boot id matches.
 */
export function bootId(): string {
  cached ??= readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  return cached;
}
