import { readdirSync, readFileSync } from 'node:fs';
import { errorCodes } from '@fdcr/core';
import { describe, expect, it } from 'vitest';
import { socketpairErrorCodes } from './codes.js';

const docs = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The section of docs/errors.md about the socketpair plugin, up to the next section. */
function ownSection(): string {
  const start = docs.indexOf('\n## @fdcr/plugin-socketpair\n');
  const end = docs.indexOf('\n## ', start + 1);
  return start === -1 ? '' : docs.slice(start, end === -1 ? undefined : end);
}

/** Every code the package's sources (tests aside) name. */
function codesInSource(): string[] {
  const src = new URL('./', import.meta.url);
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' });
  const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const text = sources.map((f) => readFileSync(new URL(f, src), 'utf8')).join('\n');
  return [...new Set(text.match(/FDCR_E_[A-Z_]*[A-Z]/g))];
}

describe('socketpairErrorCodes', () => {
  it('names every code FDCR_E_SOCKETPAIR_<CONDITION> in capitals', () => {
    for (const code of Object.keys(socketpairErrorCodes)) {
      expect(code).toMatch(/^FDCR_E_SOCKETPAIR_[A-Z_]+$/);
      expect(code).not.toMatch(/_$|__/);
    }
  });

  it('describes every code in one sentence', () => {
    for (const [code, description] of Object.entries(socketpairErrorCodes)) {
      expect({ code, description }).toEqual({ code, description: expect.stringMatching(/^[A-Z].{10,}\.$/) });
    }
  });

  it('lists every code in its section of docs/errors.md', () => {
    const section = ownSection();
    const listed = (code: string) => section.includes(`| \`${code}\` |`);
    const missing = Object.keys(socketpairErrorCodes).filter((code) => !listed(code));

    expect(section).not.toBe('');
    expect(missing).toEqual([]);
  });

  it('lists no code in its section of docs/errors.md that the catalogue lacks', () => {
    const listed = [...ownSection().matchAll(/^\| `(FDCR_E_[A-Z_]+)` \|/gm)].map((m) => m[1]);

    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((code) => !Object.hasOwn(socketpairErrorCodes, code as string))).toEqual([]);
  });

  it('catalogues every code the package throws that core does not', () => {
    const catalogued = (code: string) =>
      Object.hasOwn(socketpairErrorCodes, code) || Object.hasOwn(errorCodes, code);
    const codes = codesInSource();

    expect(codes.length).toBeGreaterThan(0);
    expect(codes.filter((code) => !catalogued(code))).toEqual([]);
  });
});
