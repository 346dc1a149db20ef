import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from './codes.js';

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

/** The part of docs/errors.md about core, up to the first plugin section. */
function coreSection(): string {
  const start = docs.indexOf('\n## Core\n');
  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

describe('errorCodes', () => {
  it('names every code FDCR_E_<AREA>_<CONDITION> in capitals', () => {
    for (const code of Object.keys(errorCodes)) {
      expect(code).toMatch(/^FDCR_E_[A-Z_]+$/);
      expect(code).not.toMatch(/_$|__/);
    }
  });

  it('describes every code in one sentence', () => {
    for (const [code, description] of Object.entries(errorCodes)) {
      expect({ code, description }).toEqual({ code, description: expect.stringMatching(/^[A-Z].{10,}\.$/) });
    }
  });

  it('lists every code in docs/errors.md', () => {
    const missing = Object.keys(errorCodes).filter((code) => !docs.includes(`\`${code}\``));

    expect(missing).toEqual([]);
  });

  it('lists no core code in docs/errors.md that the catalogue lacks', () => {
    const listed = [...coreSection().matchAll(/`(FDCR_E_[A-Z_]+)`/g)].map((m) => m[1]);

    expect(listed.length).toBeGreaterThan(0);
    expect(listed.filter((code) => !Object.hasOwn(errorCodes, code as string))).toEqual([]);
  });
});
