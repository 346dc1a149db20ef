import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptraceHint } from './proc.js';

describe('ptraceHint', () => {
  it('follows the Yama ptrace_scope level', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fdcr-yama-'));
    const file = join(dir, 'ptrace_scope');
    const hintFor = (level: string): string => {
      writeFileSync(file, `${level}\n`);
      return ptraceHint(file);
    };
    try {
      expect(hintFor('0')).toBe('run fdcr as root or as the owner of the process');
      expect(hintFor('1')).toMatch(/ptrace_scope is 1: run fdcr as root, or `sysctl kernel.yama.ptrace_scope=0`/);
      expect(hintFor('2')).toMatch(/ptrace_scope is 2: run fdcr as root/);
      expect(hintFor('3')).toMatch(/ptrace_scope is 3, which forbids this for everyone until reboot/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('gives the plain advice when Yama is not built in', () => {
    expect(ptraceHint('/nonexistent/ptrace_scope')).toBe('run fdcr as root or as the owner of the process');
  });
});
