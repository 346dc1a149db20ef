import { describe, expect, it } from 'vitest';
import { memoryDeviceName, splitRdev } from './devices.js';

describe('memoryDeviceName', () => {
  it('names the memory devices by major 1 and their minor', () => {
    expect(memoryDeviceName(0x103n)).toBe('null');
    expect(memoryDeviceName(0x105n)).toBe('zero');
    expect(memoryDeviceName(0x107n)).toBe('full');
    expect(memoryDeviceName(0x108n)).toBe('random');
    expect(memoryDeviceName(0x109n)).toBe('urandom');
  });

  it('does not name other devices of major 1 or other majors', () => {
    expect(memoryDeviceName(0x101n)).toBeUndefined(); // /dev/mem
    expect(memoryDeviceName(0x50bn)).toBeUndefined(); // major 5
    expect(memoryDeviceName(0x500n)).toBeUndefined(); // /dev/tty
  });
});

describe('splitRdev', () => {
  it('decodes large minors of the new encoding', () => {
    expect(splitRdev(0x1234567n)).toEqual({ major: 0x345, minor: 0x1267 });
  });
});
