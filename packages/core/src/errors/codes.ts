/**
 * The catalogue of stable error codes of @fdcr/core. A code names what failed, never how;
 * codes are only ever added. A retired code stays listed with `retired: true` and is never
 * reused for something else.
 */
export const errorCodes = {
  FDCR_E_SYSCALL: 'A system call failed; `syscall` and `errno` say which and why.',
  FDCR_E_ARG_INVALID: 'An argument or option has an invalid value; the message echoes it.',
  FDCR_E_PROC_NOT_FOUND: 'The target process does not exist (or exited during the dump).',
  FDCR_E_PROC_PERMISSION: 'The target process may not be inspected: not root, or ptrace is restricted.',
  FDCR_E_DUMP_FREEZE: 'The target could not be frozen (already traced, or it exited).',
  FDCR_E_DUMP_UNSUPPORTED_FD: 'One or more descriptors have no plugin that handles them.',
  FDCR_E_DUMP_UNSUPPORTED_STATE: 'A plugin found state it cannot capture faithfully.',
  FDCR_E_DUMP_DATA_CHANGED: 'Pending data could not be copied completely without consuming it.',
  FDCR_E_DUMP_FD_CHANGED: 'A target descriptor was closed or replaced while the dump read it.',
  FDCR_E_PLUGIN_DUPLICATE: 'Two plugins with the same name were registered.',
  FDCR_E_PLUGIN_INVALID: 'A plugin does not implement the plugin contract.',
  FDCR_E_PLUGIN_INCOMPATIBLE: 'A plugin was written for another major version of the plugin API.',
  FDCR_E_PLUGIN_MISSING: 'The image needs a plugin that is not registered.',
  FDCR_E_PLUGIN_VERSION: 'The image holds records of a newer format than the registered plugin reads.',
  FDCR_E_IMAGE_IO: 'The image could not be read or written.',
  FDCR_E_IMAGE_EMPTY: 'The image file is empty.',
  FDCR_E_IMAGE_MAGIC: 'The file is not an fdcr image.',
  FDCR_E_IMAGE_VERSION: 'The image has a major format version this fdcr does not read.',
  FDCR_E_IMAGE_TRUNCATED: 'The image ends before its trailer: it is truncated.',
  FDCR_E_IMAGE_CHECKSUM: 'A record of the image does not match its checksum: it is damaged.',
  FDCR_E_IMAGE_CORRUPT: 'A record of the image is malformed or inconsistent.',
  FDCR_E_IMAGE_TOO_LARGE: 'A record declares a size beyond fdcr limits.',
  FDCR_E_RESTORE_FAILED: 'A plugin could not recreate an open file.',
  FDCR_E_RESTORE_SPAWN: 'A restored process could not be started.',
  FDCR_E_RESTORE_FD_BUSY: 'A requested target fd number cannot be used.',
  FDCR_E_INTERNAL: 'An internal invariant failed: this is a bug in fdcr.',
} as const;

/** A stable fdcr error code. */
export type ErrorCode = keyof typeof errorCodes;
