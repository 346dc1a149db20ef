/** Something output can be written to, with the TTY flag Node sets on terminals. */
export interface OutputStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * Whether to colour output on `stream`: only on a terminal, and never when NO_COLOR is set
 * to anything non-empty (no-color.org) or TERM is `dumb`.
 */
export function useColour(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (stream.isTTY !== true) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;

  return env.TERM !== 'dumb';
}

/** SGR styles fdcr uses; each is the identity when colour is off. */
export interface Painter {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
const plain = (text: string): string => text;

/** A painter for `stream`: ANSI styles when useColour says so, plain text otherwise. */
export function painter(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): Painter {
  if (!useColour(stream, env)) return { bold: plain, dim: plain, red: plain, yellow: plain };

  return { bold: sgr('1'), dim: sgr('2'), red: sgr('31'), yellow: sgr('33') };
}
