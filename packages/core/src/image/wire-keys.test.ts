import { describe, expect, it } from 'vitest';
import { WireKeys, WireTable } from './wire-keys.js';

// These keys are the format: docs/image-format.md lists them and images depend on them.
// Renaming one, or reusing a retired one, is a major format change.
describe('WireKeys', () => {
  it('keeps the wire key of every field of format 1.0', () => {
    expect(WireKeys).toEqual({
      header: { format: 'f', minor: 'm', fdcr: 'w', plugins: 'p', kernel: 'k', arch: 'a', host: 'h', time: 't', boot: 'b' },
      stamp: { version: 'v', state: 's' },
      process: { pid: 'p', ppid: 'pp', comm: 'c', argv: 'a', cwd: 'w' },
      object: { id: 'i', plugin: 'p', kind: 'k', state: 's' },
      entity: { id: 'i', plugin: 'p', kind: 'k', flags: 'f', object: 'o', state: 's' },
      descriptor: { pid: 'p', fd: 'f', cloexec: 'c', entity: 'e' },
      data: { stream: 's', data: 'd', message: 'm', extra: 'x' },
      trailer: { frames: 'n', bytes: 'b' },
    });
  });

  it.each(Object.entries(WireKeys))('gives each %s field its own key, unlike any field name', (_kind, keys) => {
    const wire = Object.values(keys);
    const fields = Object.keys(keys);

    expect(new Set(wire).size).toBe(wire.length);
    expect(wire.filter((key) => fields.includes(key))).toEqual([]);
  });
});

describe('WireTable', () => {
  const table = new WireTable({ id: 'i', object: 'o', state: 's' });

  it('writes each defined field under its key in table order, leaving undefined ones out', () => {
    const wire = table.toWire({ state: {}, object: undefined, id: 7 });

    expect(Object.entries(wire)).toEqual([['i', 7], ['s', {}]]);
  });

  it('reads the fields back and keeps unknown keys under their own names', () => {
    expect(table.fromWire({ s: { a: 1 }, i: 7, later: [1] })).toEqual({ id: 7, state: { a: 1 }, later: [1] });
  });

  it('drops an unknown key spelled like a field, so that it cannot stand in for it', () => {
    expect(table.fromWire({ i: 7, id: 8, object: 9 })).toEqual({ id: 7 });
  });

  it('reads only own keys of the wire map', () => {
    const inherited = Object.create({ i: 7 }) as Record<string, unknown>;

    expect(table.fromWire(inherited)).toEqual({});
  });

  it('names the wire key of a field for messages', () => {
    expect(table.keyOf('object')).toBe('o');
  });
});
