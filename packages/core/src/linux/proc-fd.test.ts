import { fstatSync, openSync, readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parseFdInfo } from './proc.js';
import { parseFdInfoBytes, ProcFdReader } from './proc-fd.js';
import { closeQuietly, pipe2 } from './syscalls.js';

const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) closeQuietly(fd);
});

const FIELDS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks', 'mtimeNs', 'ctimeNs'] as const;

describe('ProcFdReader', () => {
  it('stats the open file behind each descriptor as fstat does', () => {
    const [r, w] = pipe2();
    const file = openSync('/proc/self/exe', 'r');
    const nul = openSync('/dev/null', 'w');
    opened.push(r, w, file, nul);
    const reader = ProcFdReader.open(process.pid);
    try {
      for (const fd of [r, w, file, nul]) {
        const mine = reader.stat(fd);
        const node = fstatSync(fd, { bigint: true });
        for (const field of FIELDS) {
          expect({ fd, field, value: mine[field] }).toEqual({ fd, field, value: node[field] });
        }
        expect(mine.isFIFO()).toBe(node.isFIFO());
        expect(mine.mtime.getTime()).toBe(node.mtime.getTime());
      }
    } finally {
      reader.close();
    }
  });

  it('reads the link and fdinfo of a descriptor without duplicating it', () => {
    const fd = openSync('/dev/null', 'a');
    opened.push(fd);
    const reader = ProcFdReader.open(process.pid);
    try {
      expect(reader.link(fd)).toEqual(readlinkSync(`/proc/self/fd/${fd}`, { encoding: 'buffer' }));
      expect(reader.info(fd)).toEqual(parseFdInfo(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1')));
    } finally {
      reader.close();
    }
  });

  it('fails with ENOENT for a descriptor the process does not have', () => {
    const reader = ProcFdReader.open(process.pid);
    try {
      expect(() => reader.stat(19_999)).toThrow(expect.objectContaining({ errno: 'ENOENT' }));
    } finally {
      reader.close();
    }
  });
});

describe('parseFdInfoBytes', () => {
  const texts = [
    'pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1234\n',
    'pos:\t9007199254740993\nflags:\t0100000\nmnt_id:\t27\nino:\t18446744073709551615\n',
    'pos:\t0\nflags:\t02\nmnt_id:\t16\nino:\t1057\neventfd-count:                0\neventfd-id: 3\n',
    'pos:\t-2\nflags:\t04000\nmnt_id:\t1\nino:\t2\ntfd:        5 events:       19 data:                5  pos:0 ino:c2 sdev:4\n',
  ];

  it('gives what parseFdInfo gives for the decoded text', () => {
    for (const text of texts) {
      const bytes = Buffer.from(`${text}junk after the end`, 'latin1');
      expect(parseFdInfoBytes(bytes, text.length)).toEqual(parseFdInfo(text));
    }
  });
});
