/** Ancillary message levels and types of unix sockets. */
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
export const SCM_PIDFD = 4;

const SOL_SOCKET = 1;
/** sizeof(struct cmsghdr) on 64-bit Linux: size_t length, int level, int type. */
const HEADER = 16;

/** What the control buffer of one recvmsg held. */
export interface ControlSummary {
  /** Descriptors the kernel installed in this process (SCM_RIGHTS, SCM_PIDFD): close them. */
  fds: number[];
  /** Those of them that were passed with SCM_RIGHTS, in the order the sender gave them. */
  passed: number[];
  /** The message carried SCM_RIGHTS. */
  rights: boolean;
  /** The message carried credentials (SCM_CREDENTIALS). */
  credentials: boolean;
}

function align(n: number): number {
  return (n + 7) & ~7;
}

/** Walks the cmsghdr list of a control buffer (64-bit layout). */
export function parseControl(control: Buffer, length: number): ControlSummary {
  const summary: ControlSummary = { fds: [], passed: [], rights: false, credentials: false };
  let at = 0;
  while (at + HEADER <= length) {
    const size = Number(control.readBigUInt64LE(at));
    if (size < HEADER || at + size > length) break;
    const level = control.readInt32LE(at + 8);
    const type = control.readInt32LE(at + 12);
    if (level === SOL_SOCKET && (type === SCM_RIGHTS || type === SCM_PIDFD)) {
      for (let p = at + HEADER; p + 4 <= at + size; p += 4) {
        const fd = control.readInt32LE(p);
        summary.fds.push(fd);
        if (type === SCM_RIGHTS) summary.passed.push(fd);
      }
      if (type === SCM_RIGHTS) summary.rights = true;
    }
    if (level === SOL_SOCKET && type === SCM_CREDENTIALS) summary.credentials = true;
    at += align(size);
  }
  return summary;
}

/** A control buffer passing `fds` with SCM_RIGHTS (64-bit layout), for sendmsg. */
export function rightsControl(fds: readonly number[]): Buffer {
  const length = HEADER + 4 * fds.length;
  const control = Buffer.alloc(align(length));
  control.writeBigUInt64LE(BigInt(length), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => control.writeInt32LE(fd, HEADER + 4 * i));
  return control;
}
