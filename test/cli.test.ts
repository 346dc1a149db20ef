import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, fdcr, fdcrOk, startTarget, useWorkspace } from './support/scenario.js';

// The CLI's conventions: help and version, exit codes, JSON shapes, colour, and errors that
// say what to do next.

const COMMANDS = ['dump', 'restore', 'show', 'inspect'];
const cliVersion = (JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string }).version;

const ws = useWorkspace();

describe('fdcr help and version', () => {
  it('lists every command, the exit codes and examples', async () => {
    const { stdout } = await fdcrOk(['--help']);
    for (const name of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(stdout).toContain('Exit status:');
    expect(stdout).toContain('Examples:');
  });

  it.each(COMMANDS)('prints help with examples for %s', async (name) => {
    const { stdout } = await fdcrOk([name, '--help']);
    expect(stdout).toMatch(new RegExp(`^Usage: fdcr ${name} `));
    expect(stdout).toContain('Examples:');
  });

  it('prints the version of the CLI package', async () => {
    expect((await fdcrOk(['--version'])).stdout).toBe(`${cliVersion}\n`);
  });

  it('exits 2 on an unknown command or option, naming it', async () => {
    const unknown = await fdcr(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toBe('fdcr: FDCR_E_CLI_USAGE: unknown command: frobnicate\nhint: run `fdcr --help` for the list of commands\n');
    const option = await fdcr(['inspect', '--bogus', '1']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("'--bogus'");
  });
});

describe('fdcr errors', () => {
  it('says what to do about a pid that does not exist', async () => {
    const result = await fdcr(['inspect', '999999999']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_PROC_NOT_FOUND: no such process: 999999999\nhint: check the pid with `ps -p PID`/);
    const bad = await fdcr(['inspect', '12x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("invalid pid: '12x'");
  });

  it('explains a refusal to look at another user\'s process', async () => {
    const target = await startTarget(ws(), 'ready()\nhold()');
    const result = await runAsNobody(['inspect', String(target.pid)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_PROC_PERMISSION: .* EACCES\nhint: run fdcr as root/m);
  });

  it('explains an image written by a newer fdcr', async () => {
    const target = await startTarget(ws(), 'ready()\nhold()');
    const image = ws().path('app.fdcr');
    await fdcrOk(['dump', '--pid', String(target.pid), '-o', image, '--skip-unsupported']);
    const bytes = readFileSync(image);
    bytes.writeUInt16LE(bytes.readUInt16LE(8) + 1, 8);
    writeFileSync(image, bytes);
    const result = await fdcr(['show', image]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_IMAGE_VERSION: .*\nhint: restore it with the newer fdcr that wrote it\nhint: `fdcr --version`/);
  });

  it('points at inspect when a descriptor is unsupported', async () => {
    const target = await startTarget(ws(), 'e = os.eventfd(0)\nready()\nhold()');
    const result = await fdcr(['dump', '--pid', String(target.pid), '-o', ws().path('x.fdcr')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/FDCR_E_DUMP_UNSUPPORTED_FD: .*anon_inode:\[eventfd\]/);
    expect(result.stderr).toContain('hint: use --skip-unsupported');
    expect(result.stderr).toContain('hint: `fdcr inspect PID` shows every descriptor');
    const view = JSON.parse((await fdcrOk(['inspect', String(target.pid), '--json'])).stdout);
    expect(view.processes[0].fds).toContainEqual(expect.objectContaining({ type: 'anon', handler: 'unsupported' }));
  });

  it('shows the stack only with --verbose', async () => {
    expect((await fdcr(['show', ws().path('missing.fdcr')])).stderr).not.toMatch(/\n\s+at /);
    expect((await fdcr(['show', ws().path('missing.fdcr'), '--verbose'])).stderr).toMatch(/\n\s+at /);
  });
});

describe('fdcr output conventions', () => {
  it('prints a dump summary as JSON with a stable set of keys, and no progress off a terminal', async () => {
    const target = await startTarget(ws(), 'r, w = os.pipe()\nos.write(w, b"x" * 1000)\nready()\nhold()');
    const result = await fdcrOk(['dump', '--pid', String(target.pid), '-o', ws().path('a.fdcr'), '--skip-unsupported', '--json']);
    expect(Object.keys(JSON.parse(result.stdout)).sort()).toEqual(
      ['dataBytes', 'descriptors', 'durationMs', 'entities', 'external', 'frozenMs', 'imageBytes', 'pids'].sort(),
    );
    expect(result.stderr).toBe('');
    const quiet = await fdcrOk(['dump', '--pid', String(target.pid), '-o', ws().path('b.fdcr'), '--skip-unsupported', '--quiet']);
    expect(quiet).toMatchObject({ stdout: '', stderr: '' });
  });

  it('never colours output that is not a terminal, even without NO_COLOR', async () => {
    const target = await startTarget(ws(), 'ready()\nhold()');
    const plain = await fdcrOk(['inspect', String(target.pid)], { env: { NO_COLOR: '' } });
    const failed = await fdcr(['inspect', '999999999'], { env: { NO_COLOR: '' } });
    expect(plain.stdout + failed.stderr).not.toContain('\x1b[');
  });

  it('keeps the inspect tables within 100 columns for pipes and sockets', async () => {
    const target = await startTarget(ws(), 'os.closerange(3, 4096)\nr, w = os.pipe()\na, b = socket.socketpair()\nready()\nhold()');
    const { stdout } = await fdcrOk(['inspect', String(target.pid), '--data']);
    for (const line of stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('rejects --json together with --graph', async () => {
    const result = await fdcr(['inspect', '1', '--json', '--graph']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--json and --graph cannot be combined');
  });
});

/** Runs the CLI as user nobody, to meet the permission checks a non-root user meets. */
async function runAsNobody(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }, (error, _stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stderr });
    });
  });
}

describe('fdcr restore arguments', () => {
  it('refuses --exec together with -- COMMAND as a usage error, before reading the image', async () => {
    const result = await fdcr(['restore', '/nonexistent.fdcr', '--exec', '1=true', '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_CLI_USAGE: give either --exec PID=COMMAND or -- COMMAND, not both/m);
  });
});
