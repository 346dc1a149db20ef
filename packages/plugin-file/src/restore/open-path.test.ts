import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linux } from '@fdcr/core';
import { openBase, openRecorded, relativeToRoot } from './open-path.js';

describe('relativeToRoot', () => {
  it('drops leading slashes and maps / to .', () => {
    expect(relativeToRoot(Buffer.from('/a/b')).toString()).toBe('a/b');
    expect(relativeToRoot(Buffer.from('//a')).toString()).toBe('a');
    expect(relativeToRoot(Buffer.from('/')).toString()).toBe('.');
  });
});

describe('openRecorded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fdcr-open-path-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'conf'), 'x');
  symlinkSync('/etc/hostname', join(dir, 'etc', 'abs'));
  symlinkSync('../../..', join(dir, 'etc', 'up'));
  symlinkSync('conf', join(dir, 'etc', 'rel'));
  const base = openBase(dir);
  afterAll(() => {
    linux.closeQuietly(base.rootFd);
    rmSync(dir, { recursive: true, force: true });
  });
  const open = (p: string): number => openRecorded(base, Buffer.from(p), linux.O_RDONLY, 0, 'test');

  it('opens a recorded absolute path under the root, following links that stay inside', () => {
    linux.close(open('/etc/conf'));
    linux.close(open('/etc/rel'));
  });

  it('refuses .. and symbolic links that lead out of the root', () => {
    expect(() => open('/../etc/passwd')).toThrow(expect.objectContaining({ code: 'FDCR_E_FILE_OUTSIDE_ROOT' }));
    expect(() => open('/etc/abs')).toThrow(expect.objectContaining({ code: 'FDCR_E_FILE_OUTSIDE_ROOT' }));
    expect(() => open('/etc/up/etc/passwd')).toThrow(expect.objectContaining({ code: 'FDCR_E_FILE_OUTSIDE_ROOT' }));
  });

  it('reports a path missing under the root', () => {
    expect(() => open('/etc/none')).toThrow(expect.objectContaining({ code: 'FDCR_E_FILE_MISSING' }));
  });
});
