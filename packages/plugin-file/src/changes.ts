import type { FileIdentity } from './file-state.js';

/** Which comparisons apply to one file at restore. */
export interface ChangeRules {
  /** Compare inode and device: only meaningful on the same machine, same boot, no remapping. */
  identity: boolean;
  /** Compare size and mtime: for files whose content the holder reads or overwrites. */
  content: boolean;
  /** Opened only for appending writes: growing (and a newer mtime) is expected. */
  appendOnly: boolean;
}

const octal = (mode: number): string => `0${mode.toString(8)}`;

function timeOf(ns: string): string {
  return new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

function contentChanges(was: FileIdentity, now: FileIdentity, appendOnly: boolean): string[] {
  if (now.size < was.size) return [`shrank from ${was.size} to ${now.size} bytes`];
  if (appendOnly) return [];
  const found: string[] = [];
  if (now.size > was.size) found.push(`grew from ${was.size} to ${now.size} bytes`);
  if (now.mtimeNs !== was.mtimeNs) found.push(`modified (mtime ${timeOf(was.mtimeNs)}, now ${timeOf(now.mtimeNs)})`);
  return found;
}

/**
 * How a file differs from what was recorded, as phrases for an error message; empty when
 * it may be restored. A shrunk file is always a change: offsets past its end would be wrong.
 */
export function findChanges(was: FileIdentity, now: FileIdentity, rules: ChangeRules): string[] {
  const found: string[] = [];
  if (rules.identity && (now.ino !== was.ino || now.dev !== was.dev)) {
    found.push(`replaced (inode ${was.ino} on device ${was.dev}, now inode ${now.ino} on device ${now.dev})`);
  }
  if (now.mode !== was.mode) found.push(`mode changed from ${octal(was.mode)} to ${octal(now.mode)}`);
  if (rules.content) found.push(...contentChanges(was, now, rules.appendOnly));
  return found;
}
