/** The version of @fdcr/core, recorded in every image header. */
export const FDCR_VERSION = '0.1.0';
