import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { commonOptions } from '../args.js';
import { dumpCommand } from './dump.js';
import { inspectCommand } from './inspect.js';
import { restoreCommand } from './restore.js';
import { showCommand } from './show.js';

type OptionTable = Readonly<Record<string, { type: string; short?: string }>>;

// The option table each command hands to parse(), recorded as the command runs: the tables
// are the source of truth, and reading them this way needs no change to the commands.
const tables = vi.hoisted(() => new Map<string, OptionTable>());

vi.mock('../args.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../args.js')>();
  return {
    ...actual,
    parse: (command: string, args: string[], options: OptionTable) => {
      tables.set(command, options);
      return actual.parse(command, args, options as never);
    },
  };
});

const commands = {
  dump: dumpCommand,
  restore: restoreCommand,
  show: showCommand,
  inspect: inspectCommand,
};

const docs = readFileSync(new URL('../../../../docs/cli.md', import.meta.url), 'utf8');

/** The part of docs/cli.md from `heading` up to the next section. */
function section(heading: string): string {
  const start = docs.indexOf(`\n${heading}\n`);
  if (start === -1) return '';

  const end = docs.indexOf('\n## ', start + 1);
  return docs.slice(start, end === -1 ? undefined : end);
}

/** The first cells of a section's option table rows, e.g. "`-p`, `--pid PID`". */
function optionCells(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `-'))
    .map((line) => line.split('|')[1] ?? '');
}

/** Whether `text` names the flag as a whole word: `--tree` does not count for `--tree-x`. */
function names(text: string, flag: string): boolean {
  return new RegExp(`(?<![\\w-])${flag}(?![\\w-])`).test(text);
}

/** Long and short spellings of each option of a table, e.g. [['--pid', '-p']]. */
function flagsOf(table: OptionTable): Array<[string, string | undefined]> {
  return Object.entries(table).map(([name, o]) => [`--${name}`, o.short && `-${o.short}`]);
}

/** The long options of `table` with no table row naming both their spellings. */
function undocumented(cells: readonly string[], table: OptionTable): string[] {
  const row = (long: string, short?: string) =>
    cells.some((c) => names(c, long) && (short === undefined || names(c, short)));
  return flagsOf(table)
    .filter(([long, short]) => !row(long, short))
    .map(([long]) => long);
}

/** Runs `fdcr <name> --help`, recording its option table; returns the help text. */
async function helpOf(name: keyof typeof commands): Promise<string> {
  const write = vi.mocked(process.stdout.write);
  write.mockClear();
  expect(await commands[name](['--help'])).toBe(0);
  return write.mock.calls.map(([chunk]) => String(chunk)).join('');
}

/** A command's own options, without the common ones. */
function ownOptions(name: string): OptionTable {
  const table = { ...tables.get(name) };
  for (const common of Object.keys(commonOptions)) delete table[common];
  return table;
}

beforeEach(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('docs/cli.md', () => {
  it('covers every command module', () => {
    const dir = new URL('./', import.meta.url);
    const modules = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));

    expect(modules.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual(Object.keys(commands).sort());
  });

  it('lists the options every command takes before the first section', () => {
    const intro = docs.slice(0, docs.indexOf('\n## '));

    expect(undocumented(optionCells(intro), commonOptions)).toEqual([]);
  });

  describe.each(Object.keys(commands) as Array<keyof typeof commands>)('fdcr %s', (name) => {
    it('documents every option it accepts in its section', async () => {
      await helpOf(name);
      const cells = optionCells(section(`## fdcr ${name}`));

      expect(cells.length).toBeGreaterThan(0);
      expect(undocumented(cells, ownOptions(name))).toEqual([]);
    });

    it('accepts every option its section lists', async () => {
      await helpOf(name);
      const accepted = new Set(Object.keys({ ...tables.get(name), ...commonOptions }));
      const cells = optionCells(section(`## fdcr ${name}`));
      const listed = cells.flatMap((c) => [...c.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]));

      expect(listed.filter((option) => !accepted.has(option as string))).toEqual([]);
    });

    it('names every option it accepts in its --help', async () => {
      const help = await helpOf(name);
      const missing = flagsOf(ownOptions(name))
        .filter(([long, short]) => !names(help, long) || (short !== undefined && !names(help, short)))
        .map(([long]) => long);

      expect(missing).toEqual([]);
    });
  });
});
