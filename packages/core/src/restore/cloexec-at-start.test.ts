import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findProgram, isElfProgram, stopBeforeExec } from './cloexec-at-start.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fdcr-cloexec-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('findProgram', () => {
  it('finds a bare name along PATH and a path with a slash from the working directory', () => {
    const path = file('tool', '#!/bin/sh\n', 0o755);

    expect(findProgram('sh', '/')).toMatch(/\/sh$/);
    expect(findProgram('./tool', dir)).toBe(path);
    expect(findProgram('tool', dir)).toBeUndefined();
  });

  it('finds nothing for a missing file, a file without execute permission or a directory', () => {
    file('plain', 'data', 0o644);

    expect(findProgram(join(dir, 'missing'), '/')).toBeUndefined();
    expect(findProgram('./plain', dir)).toBeUndefined();
    expect(findProgram(dir, '/')).toBeUndefined();
  });
});

describe('isElfProgram', () => {
  it('tells a binary from a script', () => {
    expect(isElfProgram(process.execPath)).toBe(true);
    expect(isElfProgram(file('script', '#!/bin/sh\nexec true\n', 0o755))).toBe(false);
    expect(isElfProgram(join(dir, 'missing'))).toBe(false);
  });
});

describe('stopBeforeExec', () => {
  it('runs the program through a shell that stops itself, passing the arguments untouched', () => {
    const [file, args] = stopBeforeExec('prog', ['a b', '$HOME', '']);

    expect(file).toBe('/bin/sh');
    expect(args).toEqual(['-c', 'kill -STOP $$; exec "$0" "$@"', 'prog', 'a b', '$HOME', '']);
  });
});
