export { PipePlugin, pipePlugin, pipePluginMeta } from './pipe-plugin.js';
export { pipeErrorCodes } from './codes.js';
export type { PipeObjectState } from './pipe-object.js';
