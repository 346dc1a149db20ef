/** Stable error codes of @fdcr/plugin-file; only ever added, never reused. */
export const fileErrorCodes = {
  FDCR_E_FILE_CHANGED:
    'At restore, a file differs from the one checkpointed (shrank, replaced, mode or mtime changed); `--allow-changed` accepts it.',
  FDCR_E_FILE_MISSING: 'At restore, the recorded path (after any --root remapping) does not exist.',
  FDCR_E_FILE_OUTSIDE_ROOT:
    'At restore with --root, the path resolves outside the root (through `..` or a symbolic link).',
  FDCR_E_FILE_TOO_LARGE:
    'At checkpoint, a deleted-but-open file holds more data than the limit (`--max-deleted-size`).',
  FDCR_E_FILE_REOPEN: 'At restore, a file could not be reopened with its recorded flags.',
  FDCR_E_FILE_STATE: 'A file record of the image is missing or inconsistent.',
} as const;

/** A stable error code of the file plugin. */
export type FileErrorCode = keyof typeof fileErrorCodes;
