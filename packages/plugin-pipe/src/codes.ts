/** Stable error codes of @fdcr/plugin-pipe; only ever added, never reused. */
export const pipeErrorCodes = {
  FDCR_E_PIPE_NOT_FIFO: 'At restore, the recorded FIFO path exists but is not a FIFO.',
  FDCR_E_PIPE_CAPACITY: 'The recorded pipe capacity cannot be set, or the data does not fit in it.',
  FDCR_E_PIPE_STATE: 'A pipe or FIFO record is inconsistent.',
} as const;
