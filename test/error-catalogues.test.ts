import { readdirSync, readFileSync } from 'node:fs';
import { errorCodes } from '@fdcr/core';
import { cliErrorCodes } from '@fdcr/cli';
import { fileErrorCodes } from '@fdcr/plugin-file';
import { pipeErrorCodes } from '@fdcr/plugin-pipe';
import { socketpairErrorCodes } from '@fdcr/plugin-socketpair';
import { describe, expect, it } from 'vitest';

// Each package catalogues its own error codes; docs/errors.md documents them, one section per
// package. These checks keep the catalogues, the sources and the documentation in step.

const docs = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** The section of docs/errors.md headed `## <heading>`, up to the next section. */
function section(heading: string): string {
  const start = docs.indexOf(`\n## ${heading}\n`);
  const end = docs.indexOf('\n## ', start + 1);
  return start === -1 ? '' : docs.slice(start, end === -1 ? undefined : end);
}

/** Every code a package's sources (tests aside) name. */
function codesInSource(dir: string): string[] {
  const src = new URL(`../packages/${dir}/src/`, import.meta.url);
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' });
  const sources = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const text = sources.map((f) => readFileSync(new URL(f, src), 'utf8')).join('\n');
  return [...new Set(text.match(/FDCR_E_[A-Z_]*[A-Z]/g))];
}

describe.each([
  { name: '@fdcr/plugin-pipe', dir: 'plugin-pipe', area: 'PIPE', codes: pipeErrorCodes },
  { name: '@fdcr/plugin-socketpair', dir: 'plugin-socketpair', area: 'SOCKETPAIR', codes: socketpairErrorCodes },
  { name: '@fdcr/plugin-file', dir: 'plugin-file', area: 'FILE', codes: fileErrorCodes },
  { name: '@fdcr/cli', dir: 'cli', area: 'CLI', codes: cliErrorCodes },
])('the error catalogue of $name', ({ name, dir, area, codes }) => {
  it(`names every code FDCR_E_${area}_<CONDITION> in capitals`, () => {
    for (const code of Object.keys(codes)) {
      expect(code).toMatch(new RegExp(`^FDCR_E_${area}_[A-Z_]+$`));
      expect(code).not.toMatch(/_$|__/);
    }
  });

  it('describes every code in one sentence', () => {
    for (const [code, description] of Object.entries(codes)) {
      expect({ code, description }).toEqual({ code, description: expect.stringMatching(/^[A-Z].{10,}\.$/) });
    }
  });

  it('matches its section of docs/errors.md, code for code', () => {
    const listed = [...section(name).matchAll(/^\| `(FDCR_E_[A-Z_]+)` \|/gm)].map((m) => m[1]);

    expect(listed.length).toBeGreaterThan(0);
    expect([...listed].sort()).toEqual(Object.keys(codes).sort());
  });

  it('catalogues every code the package throws that core does not', () => {
    const found = codesInSource(dir);

    expect(found.length).toBeGreaterThan(0);
    const uncatalogued = (code: string): boolean =>
      !Object.hasOwn(codes, code) && !Object.hasOwn(errorCodes, code);
    expect(found.filter(uncatalogued)).toEqual([]);
  });
});
