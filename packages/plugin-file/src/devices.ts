/**
 * The memory character devices (major 1) the plugin reopens. They hold no state worth saving:
 * reads and writes do not depend on the offset or on anything else of the open file.
 */
const MEMORY_DEVICES: ReadonlyMap<number, string> = new Map([
  [3, 'null'],
  [5, 'zero'],
  [7, 'full'],
  [8, 'random'],
  [9, 'urandom'],
]);

const MEM_MAJOR = 1;

/** Major and minor of a device number in the kernel's new encoding. */
export function splitRdev(rdev: bigint): { major: number; minor: number } {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return { major, minor };
}

/** The name of a supported memory device (`null`, `zero`...), or undefined for any other. */
export function memoryDeviceName(rdev: bigint): string | undefined {
  const { major, minor } = splitRdev(rdev);
  return major === MEM_MAJOR ? MEMORY_DEVICES.get(minor) : undefined;
}
