export { FilePlugin, filePlugin, filePluginMeta } from './file-plugin.js';
export { fileErrorCodes, type FileErrorCode } from './codes.js';
export { DEFAULT_MAX_DELETED_BYTES, parseSize, type FileOptions } from './options.js';
export type { DeletedObjectState, FileEntityState, FileKind } from './file-state.js';
