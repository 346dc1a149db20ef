// tsyringe needs the Reflect metadata polyfill loaded before it is.
import 'reflect-metadata';
export { errorCodes, type ErrorCode } from './errors/codes.js';
export { FdcrError, isFdcrError, type AnyErrorCode, type FdcrErrorDetails } from './errors/fdcr-error.js';
export * as linux from './linux/index.js';
export { bindLibc, bindLibcRaw, syscallError, type CheckedCall } from './linux/libc.js';
export type { FdInfo } from './linux/proc.js';
export {
  EXTERNAL_PLUGIN,
  type DataChunk,
  type DescriptorRecord,
  type EntityRecord,
  type ImageContents,
  type ImageHeader,
  type ObjectRecord,
  type PluginStamp,
  type ProcessRecord,
} from './model/records.js';
export {
  PLUGIN_API_VERSION,
  type CheckpointContext,
  type DescriptorRef,
  type EntityInput,
  type FdPlugin,
  type FdProbe,
  type InspectContext,
  type InspectFacts,
  type OpenFile,
  type PluginMeta,
  type RestoreContext,
} from './plugin/fd-plugin.js';
export { silentLogger, type Logger } from './plugin/logger.js';
export { createFdcrContainer, registerPlugin, resolvePlugins } from './plugin/registry.js';
export { FD_PLUGIN, LOGGER } from './plugin/tokens.js';
export { ImageReader } from './image/image-reader.js';
export { ImageWriter } from './image/image-writer.js';
export { FORMAT_MAJOR, FORMAT_MINOR, MAGIC, RecordKind } from './image/format.js';
export { encodeCbor, decodeCbor } from './image/cbor.js';
export {
  checkpoint,
  resolveTargets,
  type CheckpointOptions,
  type CheckpointSummary,
} from './dump/checkpoint.js';
export { groupSharedFiles } from './dump/sharing.js';
export { classify } from './dump/classify.js';
export { recreateEntities, checkPlugins, type RecreatedFiles } from './restore/recreate.js';
export { restore, openImage, type RestoreOptions, type RestoredRun } from './restore/restore.js';
export { startProcesses, waitForExit, type ProcessCommand, type StartedProcess } from './restore/start.js';
export { restoreInto, type Placement } from './restore/into-self.js';
export { checkpointFds, MemoryImage } from './api/memory-image.js';
export { FDCR_VERSION } from './version.js';
export {
  inspectProcesses,
  type InspectOptions,
  type LiveFd,
  type LivePeer,
  type LiveProcess,
  type LiveView,
} from './inspect/live-scan.js';
export { buildPeerIndex, type Holder, type PeerIndex } from './inspect/peer-index.js';
export { accessMode, fileType, statusFlagNames, type FileType } from './inspect/file-type.js';
export { type Progress, type ProgressListener } from './api/progress.js';
