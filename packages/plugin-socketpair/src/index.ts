export { SocketpairPlugin, socketpairPlugin, socketpairPluginMeta } from './socketpair-plugin.js';
export { socketpairErrorCodes } from './codes.js';
export { buildUnixDiagRequest, parseUnixDiagReplies, type UnixSocketDiag } from './diag/unix-diag.js';
export type { EndState, SocketpairEntityState, SocketpairState, SocketTypeName } from './pair-state.js';
