/** Bytes for humans: `512 B`, `64.0 KiB`, `1.0 MiB`. */
export function humanBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Renders rows as an aligned table with a header line; the last column is not padded, so
 * long paths there run on rather than widen every row. `header` styles the header line.
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  header: (text: string) => string = (t) => t,
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [header(line(headers)), ...rows.map(line)].join('\n') + '\n';
}

/** A byte string shown safely: printable ASCII kept, everything else escaped. */
export function printable(bytes: Uint8Array, limit = 32): string {
  let out = '';
  for (const byte of bytes.subarray(0, limit)) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x5c) out += String.fromCharCode(byte);
    else if (byte === 0x0a) out += '\\n';
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > limit ? `${out}...` : out;
}
