import { fstatSync } from 'node:fs';
import { FdcrError, linux, type EntityRecord } from '@fdcr/core';
import { findChanges } from '../changes.js';
import { identityOf, parseEntityState, type FileEntityState, type FileIdentity } from '../file-state.js';
import { isAppendOnly, lateFlags, reopenFlags } from '../flags.js';
import { showPath } from '../link.js';
import { lseek, SEEK_SET, AT_FDCWD, openat2 } from '../sys.js';
import { openRecorded, type PathBase } from './open-path.js';

/** What the restore of path-opened files needs besides the entity. */
export interface ReopenEnv {
  base: PathBase;
  allowChanged: boolean;
  /** Boot id of the machine that wrote the image (from its header). */
  boot: string | undefined;
}

function stateError(entity: EntityRecord, what: string): FdcrError {
  return new FdcrError('FDCR_E_FILE_STATE', `file entity ${entity.id}: ${what}`);
}

/** Sets the flags open(2) ignores, then moves to the recorded offset. */
export function finishOpen(fd: number, flags: number, pos: string, seek: boolean): void {
  const late = lateFlags(flags);
  if (late !== 0) linux.setStatusFlags(fd, linux.getStatusFlags(fd) | late);
  if (seek && pos !== '0') lseek(fd, BigInt(pos), SEEK_SET);
}

/** Memory devices are opened by the name of their device number, never remapped. */
function openDevice(entity: EntityRecord, state: FileEntityState): number {
  const fd = openat2(AT_FDCWD, Buffer.from(`/dev/${state.device}`), reopenFlags(entity.flags), 0, 0);
  const rdev = fstatSync(fd, { bigint: true }).rdev.toString();
  if (rdev !== state.rdev) {
    linux.closeQuietly(fd);
    throw new FdcrError('FDCR_E_FILE_CHANGED', `cannot restore /dev/${state.device} (entity ${entity.id}): it is device ${rdev} here, ${state.rdev} was recorded`, {
      path: `/dev/${state.device}`,
    });
  }
  return fd;
}

function checkUnchanged(fd: number, entity: EntityRecord, state: FileEntityState, env: ReopenEnv): void {
  const now = identityOf(fstatSync(fd, { bigint: true }));
  const changes = findChanges(state as FileIdentity, now, {
    // Inode numbers mean nothing under another root, on another machine or after a reboot.
    identity: env.base.rootFd === undefined && (state.boot ?? env.boot) === linux.readBootId(),
    content: entity.kind === 'file',
    appendOnly: isAppendOnly(entity.flags),
  });
  if (changes.length === 0 || env.allowChanged) return;
  throw new FdcrError('FDCR_E_FILE_CHANGED', `cannot restore ${showPath(state.path)} (entity ${entity.id}): the file changed since the checkpoint: ${changes.join('; ')}`, {
    path: Buffer.from(state.path).toString('utf8'),
    hint: 'restore with --allow-changed to accept the file as it is now',
  });
}

/** Reopens a file, directory, O_PATH fd or memory device entity; returns the new fd. */
export function reopenEntity(entity: EntityRecord, env: ReopenEnv): number {
  const state = parseEntityState(entity.state);
  if (state === undefined) throw stateError(entity, 'malformed state record');
  if (entity.kind === 'device') {
    if (state.device === undefined) throw stateError(entity, 'device entity without a device name');
    return openDevice(entity, state);
  }
  if ([state.mode, state.size, state.ino, state.dev, state.mtimeNs].includes(undefined)) {
    throw stateError(entity, 'missing file identity');
  }
  const fd = openRecorded(env.base, state.path, reopenFlags(entity.flags), 0, `entity ${entity.id}`);
  try {
    checkUnchanged(fd, entity, state, env);
    finishOpen(fd, entity.flags, state.pos, entity.kind !== 'path');
    return fd;
  } catch (error) {
    linux.closeQuietly(fd);
    throw error;
  }
}
