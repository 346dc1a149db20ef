import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fdcr, fdcrOk, script, startTarget, useWorkspace } from './support/scenario.js';

// Round trips of FD_CLOEXEC through `fdcr restore`: a target holds a pipe whose read end (10)
// is inheritable and whose write end (11) is close-on-exec, and the restored process checks
// the flags from the inside with fcntl(F_GETFD). The target's 0-2 are not claimed by any
// plugin, hence --skip-unsupported.

/**
 * The python binary itself. `python3` on PATH may be a launcher script (a pyenv shim) that
 * execs the real one, and a script command keeps its descriptors without FD_CLOEXEC.
 */
const PYTHON = execFileSync('python3', ['-c', 'import os, sys; print(os.path.realpath(sys.executable))'], {
  encoding: 'utf8',
}).trim();

const TARGET = `
os.closerange(3, 1 << 20)
r, w = os.pipe()
os.dup2(r, 10, inheritable=True)
os.dup2(w, 11, inheritable=False)
os.close(r)
os.close(w)
os.write(11, b'in flight')
`;

/** What the restored process reports: flags of 10 and 11, the data, its tracer, a child's view. */
const VERIFY = `
import subprocess
def status(field):
    return open('/proc/self/status').read().split(field + ':')[1].split()[0]
child = subprocess.run([sys.executable, '-c', 'import os; print([os.path.exists("/proc/self/fd/%d" % n) for n in (10, 11)])'],
                       close_fds=False, capture_output=True, text=True)
report({
    'flags': [fcntl.fcntl(fd, fcntl.F_GETFD) for fd in (10, 11)],
    'data': os.read(10, 9).decode(),
    'tracer': int(status('TracerPid')),
    'childSees': child.stdout.strip(),
    'odd': os.environ.get('FDCR.ODD-NAME'),
    'pwd': os.environ.get('PWD'),
})
`;

interface Verified {
  flags: number[];
  data: string;
  tracer: number;
  childSees: string;
  odd: string | null;
  pwd: string | null;
}

const ws = useWorkspace();

async function dumpTarget(body = `${TARGET}\nready()\nhold()\n`): Promise<string> {
  const target = await startTarget(ws(), body);
  const image = ws().path('cloexec.fdcr');
  await fdcrOk(['dump', '--pid', String(target.pid), '--skip-unsupported', '-o', image]);
  target.kill();
  return image;
}

/** Restores `image` with `command...` and returns what the restored process reported. */
async function restoreWith(
  image: string,
  command: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Verified> {
  const out = ws().path('verify.json');
  await fdcrOk(['restore', image, ...command], { env: { FDCR_TEST_OUT: out, ...env } });
  return JSON.parse(readFileSync(out, 'utf8')) as Verified;
}

/** Pids of live processes whose command line mentions `needle`. */
function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(needle)) found.push(Number(name));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

describe.runIf(process.arch === 'x64')('restore of FD_CLOEXEC', () => {
  it('restores the flags exactly as recorded, with the data, and leaves the process untraced', async () => {
    const image = await dumpTarget();
    const shown = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout);
    const recorded = shown.descriptors.filter((d: { fd: number }) => d.fd >= 10);
    expect(recorded.map((d: { fd: number; cloexec: boolean }) => [d.fd, d.cloexec])).toEqual([
      [10, false],
      [11, true],
    ]);

    const inside = await restoreWith(image, ['--', PYTHON, '-c', script(VERIFY)]);

    expect(inside.flags).toEqual([0, 1]);
    expect(inside.data).toBe('in flight');
    expect(inside.tracer).toBe(0);
  });

  it('lets the restored program exec a child that inherits only the descriptor without the flag', async () => {
    const image = await dumpTarget();

    const inside = await restoreWith(image, ['--', PYTHON, '-c', script(VERIFY)]);

    expect(inside.childSees).toBe('[True, False]');
  });

  it('hands the program the environment of fdcr unchanged by the wrapper shell', async () => {
    const image = await dumpTarget();

    // A shell drops names that are not identifiers and rewrites PWD to the working directory.
    const inside = await restoreWith(image, ['--', PYTHON, '-c', script(VERIFY)], {
      'FDCR.ODD-NAME': 'kept',
      PWD: '/fdcr-not-the-cwd',
    });

    expect(inside.odd).toBe('kept');
    expect(inside.pwd).toBe('/fdcr-not-the-cwd');
  });

  it('restores the flags when the recorded argv is run again', async () => {
    // The recorded command line is the target's own: run again, it verifies instead.
    const image = await dumpTarget(`
if os.environ.get('FDCR_PHASE') == 'restored':
    ${VERIFY.trim().replace(/\n/g, '\n    ')}
    sys.exit(0)
${TARGET}
ready()
hold()
`);

    const inside = await restoreWith(image, [], { FDCR_PHASE: 'restored' });

    expect(inside.flags).toEqual([0, 1]);
    expect(inside.data).toBe('in flight');
    expect(inside.tracer).toBe(0);
  });

  it('leaves the flags clear for a script command, which may exec the real program', async () => {
    const image = await dumpTarget();
    const launcher = ws().path('launcher.sh');
    writeFileSync(launcher, `#!/bin/sh\nexec "${PYTHON}" -c "$1"\n`);
    chmodSync(launcher, 0o755);

    const inside = await restoreWith(image, ['--', launcher, script(VERIFY)]);

    expect(inside.flags).toEqual([0, 0]);
    expect(inside.data).toBe('in flight');
  });

  it('starts nothing when the program does not exist', async () => {
    const image = await dumpTarget();
    const missing = ws().path('no-such-program');

    const result = await fdcr(['restore', image, '--', missing]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_RESTORE_SPAWN: /m);
    expect(processesMentioning(missing)).toEqual([]);
  });

  it('leaves no stopped process when the program fails to start after the wrapper did', async () => {
    const image = await dumpTarget();
    // An ELF magic and nothing else: exec refuses it once the wrapper has stopped and been seized.
    const broken = ws().path('broken-program');
    writeFileSync(broken, '\x7fELF\n');
    chmodSync(broken, 0o755);

    const result = await fdcr(['restore', image, '--', broken]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_RESTORE_SPAWN: .*before its program started/m);
    expect(processesMentioning(broken)).toEqual([]);
  });
});
