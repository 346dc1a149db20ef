import { fstatSync } from 'node:fs';
import { FdcrError, isFdcrError } from '../errors/fdcr-error.js';
import { listFds, procError, ptraceHint, readFdInfo, readFdLink } from '../linux/proc.js';
import { closeQuietly, pidfdGetfd, pidfdOpen } from '../linux/syscalls.js';
import type { FdProbe } from '../plugin/fd-plugin.js';

/** Turns a failed pidfd call into an error a user can act on. */
function accessError(error: unknown, pid: number, fd?: number): FdcrError {
  if (isFdcrError(error) && (error.errno === 'EPERM' || error.errno === 'EACCES')) {
    return new FdcrError('FDCR_E_PROC_PERMISSION', `cannot duplicate descriptors of process ${pid}: ${error.errno}`, {
      pid,
      fd,
      errno: error.errno,
      cause: error,
      hint: ptraceHint(),
    });
  }
  if (isFdcrError(error) && error.errno === 'ESRCH') {
    return new FdcrError('FDCR_E_PROC_NOT_FOUND', `no such process: ${pid}`, {
      pid,
      cause: error,
      hint: 'check the pid with `ps -p PID`; the process may have exited',
    });
  }
  return isFdcrError(error) ? error : procError(error, pid, `fd ${fd}`);
}

/**
 * Duplicates every descriptor of `pid` (or just `only`) into fdcr with pidfd_getfd and
 * gathers what the classifier needs. The caller closes `localFd` of every probe returned.
 */
export function probeProcess(pid: number, only?: readonly number[]): FdProbe[] {
  let pidfd: number;
  try {
    pidfd = pidfdOpen(pid);
  } catch (error) {
    throw accessError(error, pid);
  }
  const probes: FdProbe[] = [];
  try {
    for (const fd of only ?? listFds(pid)) {
      probes.push(probeFd(pidfd, pid, fd));
    }
    return probes;
  } catch (error) {
    for (const probe of probes) closeQuietly(probe.localFd);
    throw error;
  } finally {
    closeQuietly(pidfd);
  }
}

function probeFd(pidfd: number, pid: number, fd: number): FdProbe {
  let localFd: number;
  try {
    localFd = pidfdGetfd(pidfd, fd);
  } catch (error) {
    if (isFdcrError(error) && error.errno === 'EBADF') {
      throw new FdcrError('FDCR_E_ARG_INVALID', `process ${pid} has no fd ${fd}`, { pid, fd });
    }
    throw accessError(error, pid, fd);
  }
  try {
    return {
      pid,
      fd,
      localFd,
      stat: fstatSync(localFd, { bigint: true }),
      info: readFdInfo(pid, fd),
      link: readFdLink(pid, fd),
    };
  } catch (error) {
    closeQuietly(localFd);
    throw procError(error, pid, `fd ${fd}`);
  }
}
