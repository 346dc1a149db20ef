const DELETED = Buffer.from(' (deleted)');

/** Whether a /proc fd link ends with the ` (deleted)` mark the kernel adds to unlinked files. */
export function hasDeletedMark(link: Buffer): boolean {
  return link.length > DELETED.length && link.subarray(link.length - DELETED.length).equals(DELETED);
}

/** The link without its ` (deleted)` mark. */
export function withoutDeletedMark(link: Buffer): Buffer {
  return hasDeletedMark(link) ? link.subarray(0, link.length - DELETED.length) : link;
}

/** Whether a link is an absolute path (not `pipe:[..]`, `socket:[..]`, `anon_inode:..`). */
export function isPathLink(link: Buffer): boolean {
  return link[0] === 0x2f;
}

/**
 * Whether a link names a file that lives on a kernel-internal mount and has no path at all:
 * memfd_create files and SysV shared memory segments. They look like deleted regular files.
 */
export function isInternalFile(link: Buffer): boolean {
  const text = link.toString('latin1');
  return hasDeletedMark(link) && (text.startsWith('/memfd:') || text.startsWith('/SYSV'));
}

/** The directory part of an absolute path, as bytes (`/` for a file in the root). */
export function parentOf(path: Buffer): Buffer {
  const slash = path.lastIndexOf(0x2f);
  return slash <= 0 ? Buffer.from('/') : path.subarray(0, slash);
}

/** A path as text for messages: invalid UTF-8 shows as U+FFFD, newlines stay escaped by JSON. */
export function showPath(path: Uint8Array): string {
  return JSON.stringify(Buffer.from(path).toString('utf8'));
}
