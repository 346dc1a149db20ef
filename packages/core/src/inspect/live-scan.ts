import type { DependencyContainer } from 'tsyringe';
import { classify } from '../dump/classify.js';
import { isFdcrError } from '../errors/fdcr-error.js';
import { probeProcess } from '../dump/collect.js';
import { groupSharedFiles } from '../dump/sharing.js';
import { procError, readArgv, readCwd, readProcStat } from '../linux/proc.js';
import { closeQuietly, getNofileLimit, raiseNofileLimit } from '../linux/syscalls.js';
import type { FdPlugin, FdProbe } from '../plugin/fd-plugin.js';
import { resolvePlugins } from '../plugin/registry.js';
import { accessMode, fileType, statusFlagNames, type FileType } from './file-type.js';
import { createInspectContext } from './inspect-context.js';
import { liveFacts, type LiveRun } from './live-facts.js';
import { buildPeerIndex, type PeerIndex } from './peer-index.js';

/** How to inspect. */
export interface InspectOptions {
  /** Copy up to this many pending bytes of each pipe as a preview (default 0: none). */
  previewBytes?: number;
  /** A peer index to reuse; by default /proc is scanned once per call. */
  peers?: PeerIndex;
}

/** A descriptor somewhere on the system that refers to the same file or its other end. */
export interface LivePeer {
  pid: number;
  fd: number;
  comm: string;
  access: 'r' | 'w' | 'rw' | '?';
}

/** One descriptor of an inspected process. */
export interface LiveFd {
  fd: number;
  type: FileType;
  /** What /proc/PID/fd/FD points at, e.g. `pipe:[123]` or a path. */
  target: string;
  inode: number;
  access: 'r' | 'w' | 'rw';
  /** f_flags without O_CLOEXEC, and the names of its status flags. */
  flags: number;
  statusFlags: string[];
  offset: number;
  cloexec: boolean;
  /** Id of the open file description, shared by every descriptor (in any process) on it. */
  file: number;
  /** The plugin that would checkpoint it, `external:terminal`, or `unsupported`. */
  handler: string;
  /** A finer kind reported by the plugin, e.g. `socketpair`. */
  kind?: string;
  /** Bytes waiting to be read through this descriptor. */
  pendingIn?: number;
  /** Bytes written through it that the other end has not read. */
  pendingOut?: number;
  /** Capacity of a pipe in bytes. */
  capacity?: number;
  /** Inode of the peer socket, when a plugin knows it. */
  peerInode?: number;
  /** Descriptors of other processes (and other fds of this one) on the other end or the same file. */
  peers: LivePeer[];
  /** The first pending bytes of a pipe, when a preview was asked for. */
  preview?: Buffer;
  details?: Record<string, unknown>;
  /** Facts that could not be read, with why. */
  unavailable?: string[];
}

/** An inspected process. */
export interface LiveProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** State letter from /proc/PID/stat (R, S, D, T, t, Z...). */
  state: string;
  argv: string[];
  cwd: string;
  fds: LiveFd[];
}

/** The result of `inspectProcesses`. */
export interface LiveView {
  processes: LiveProcess[];
  /** Open file descriptions held by more than one descriptor, with their holders. */
  shared: { file: number; holders: { pid: number; fd: number }[] }[];
  /** Size of the /proc scan behind the peer search. */
  scanned: { processes: number; descriptors: number };
}

function readLiveProcess(pid: number): Omit<LiveProcess, 'fds'> {
  try {
    const stat = readProcStat(pid);
    const argv = readArgv(pid).map((a) => a.toString('utf8'));
    return { pid, ppid: stat.ppid, comm: stat.comm, state: stat.state, argv, cwd: readCwd(pid).toString('utf8') };
  } catch (error) {
    throw isFdcrError(error) ? error : procError(error, pid, 'the command line or working directory');
  }
}

// Limitation: each duplicate lives for the whole scan, so a reader whose last writer closes
// meanwhile sees end-of-file a few milliseconds late.
function probeAll(pids: readonly number[]): FdProbe[][] {
  const all: FdProbe[][] = [];
  try {
    for (const pid of pids) {
      // Every descriptor is duplicated into fdcr at once; make room for them.
      const wanted = all.flat().length + 4096;
      if (getNofileLimit()[0] < wanted) raiseNofileLimit(wanted);
      all.push(probeProcess(pid));
    }
    return all;
  } catch (error) {
    for (const probe of all.flat()) closeQuietly(probe.localFd);
    throw error;
  }
}

/**
 * A live view of the descriptors of running processes, for humans and tools. Nothing is
 * frozen and no data is consumed: /proc is read, each descriptor is duplicated with
 * pidfd_getfd only to measure it (FIONREAD, F_GETPIPE_SZ, kcmp) and closed again, and
 * pipe previews are copied with tee(). The other ends of pipes, FIFOs and sockets are
 * searched across every process visible in /proc, not only the ones named.
 *
 * Errors: FDCR_E_PROC_NOT_FOUND, FDCR_E_PROC_PERMISSION (ptrace restrictions).
 */
export function inspectProcesses(
  container: DependencyContainer,
  pids: readonly number[],
  options: InspectOptions = {},
): LiveView {
  const infos = pids.map(readLiveProcess);
  const plugins = resolvePlugins(container);
  const probes = probeAll(pids);
  try {
    const peers = options.peers ?? buildPeerIndex();
    const run: LiveRun = { peers, previewBytes: options.previewBytes ?? 0, context: createInspectContext() };
    const files = fileIds(probes.flat());
    const processes = infos.map((info, i) => ({
      ...info,
      fds: (probes[i] ?? []).map((p) => liveFd(p, files, plugins, run)),
    }));
    return { processes, shared: sharedList(processes), scanned: peers.scanned };
  } finally {
    for (const probe of probes.flat()) closeQuietly(probe.localFd);
  }
}

/** Numbers the open file descriptions in the order of their first descriptor. */
function fileIds(probes: readonly FdProbe[]): Map<FdProbe, number> {
  const order = new Map(probes.map((p, i) => [p, i]));
  const groups = groupSharedFiles(probes);
  groups.sort((a, b) => Math.min(...a.map((p) => order.get(p)!)) - Math.min(...b.map((p) => order.get(p)!)));
  const ids = new Map<FdProbe, number>();
  groups.forEach((group, index) => group.forEach((p) => ids.set(p, index + 1)));
  return ids;
}

function sharedList(processes: readonly LiveProcess[]): LiveView['shared'] {
  const byFile = new Map<number, { pid: number; fd: number }[]>();
  for (const proc of processes) {
    for (const fd of proc.fds) {
      byFile.set(fd.file, [...(byFile.get(fd.file) ?? []), { pid: proc.pid, fd: fd.fd }]);
    }
  }
  return [...byFile]
    .filter(([, holders]) => holders.length > 1)
    .map(([file, holders]) => ({ file, holders }));
}

function handlerOf(probe: FdProbe, plugins: readonly FdPlugin[]): { name: string; plugin?: FdPlugin } {
  const found = classify(probe, plugins);
  if (found.by === 'plugin') return { name: found.plugin.meta.name, plugin: found.plugin };
  return { name: found.reason === 'terminal' ? 'external:terminal' : 'unsupported' };
}

function liveFd(
  probe: FdProbe,
  files: Map<FdProbe, number>,
  plugins: readonly FdPlugin[],
  run: LiveRun,
): LiveFd {
  const handler = handlerOf(probe, plugins);
  const base: LiveFd = {
    fd: probe.fd,
    type: fileType(probe),
    target: probe.link.toString('utf8'),
    inode: Number(probe.stat.ino),
    access: accessMode(probe.info.flags),
    flags: probe.info.flags,
    statusFlags: statusFlagNames(probe.info.flags),
    offset: Number(probe.info.pos),
    cloexec: probe.info.cloexec,
    file: files.get(probe) ?? 0,
    handler: handler.name,
    peers: [],
  };
  return liveFacts(base, probe, handler.plugin, run);
}
