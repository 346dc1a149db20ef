import { describe, expect, it } from 'vitest';
import {
  DATA_CHUNK_SIZE,
  FORMAT_MAJOR,
  FORMAT_MINOR,
  FRAME_HEAD_SIZE,
  FRAME_TAIL_SIZE,
  MAGIC,
  MAX_PAYLOAD,
  PREFIX_SIZE,
  RecordKind,
  isAncillaryKind,
  kindName,
} from './format.js';

// These numbers are the format: docs/image-format.md describes them, and images written by
// every fdcr release depend on them. Changing one is a major format change.
describe('RecordKind', () => {
  it('keeps the numbers of every record kind', () => {
    expect(RecordKind).toEqual({
      header: 1,
      process: 2,
      object: 3,
      entity: 4,
      descriptor: 5,
      data: 6,
      trailer: 127,
    });
  });

  it('never puts a known kind in the ancillary range', () => {
    expect(Object.values(RecordKind).filter(isAncillaryKind)).toEqual([]);
  });
});

describe('isAncillaryKind', () => {
  it('holds exactly for kinds 64 to 126', () => {
    const ancillary = Array.from({ length: 256 }, (_, kind) => kind).filter(isAncillaryKind);

    expect(ancillary[0]).toBe(64);
    expect(ancillary.at(-1)).toBe(126);
    expect(ancillary).toHaveLength(63);
  });
});

describe('kindName', () => {
  it('names known kinds and numbers unknown ones', () => {
    expect(kindName(4)).toBe('entity');
    expect(kindName(99)).toBe('kind 99');
  });
});

describe('format constants', () => {
  it('keeps the prefix, framing and limits of format 1.0', () => {
    expect(MAGIC.toString('hex')).toBe('89464443520d0a1a');
    expect([FORMAT_MAJOR, FORMAT_MINOR]).toEqual([1, 0]);
    expect([PREFIX_SIZE, FRAME_HEAD_SIZE, FRAME_TAIL_SIZE]).toEqual([12, 5, 4]);
    expect(MAX_PAYLOAD).toBe(16 * 1024 * 1024);
    expect(DATA_CHUNK_SIZE).toBe(256 * 1024);
  });
});
