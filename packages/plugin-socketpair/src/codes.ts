/** Stable error codes of @fdcr/plugin-socketpair; only ever added, never reused. */
export const socketpairErrorCodes = {
  FDCR_E_SOCKETPAIR_DIAG: 'The sock_diag netlink query for unix sockets failed or returned a malformed reply.',
  FDCR_E_SOCKETPAIR_STATE: 'A socketpair record of the image is missing or inconsistent.',
  FDCR_E_SOCKETPAIR_QUEUE_FULL: 'At restore, the saved queue does not fit in the new socket (buffer sizes could not be raised).',
} as const;
