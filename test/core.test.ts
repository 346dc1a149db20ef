import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FORMAT_MAJOR,
  FORMAT_MINOR,
  ImageWriter,
  PLUGIN_API_VERSION,
  bindLibc,
  checkpoint,
  createFdcrContainer,
  isFdcrError,
  linux,
  registerPlugin,
  restore,
  type CheckpointContext,
  type EntityRecord,
  type FdPlugin,
  type FdProbe,
  type OpenFile,
  type RestoreContext,
} from '@fdcr/core';
import { pipePlugin } from '@fdcr/plugin-pipe';
import { fdcr, fdcrOk, restoreAndVerify, startTarget, useWorkspace } from './support/scenario.js';

// The core engines through the library API, with a plugin written the way a plugin from
// outside this repository would be: only the public exports of @fdcr/core.

const eventfd = bindLibc('int eventfd(unsigned int initval, int flags)');

function tracerState(pid: number): { state: string; tracer: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { state: /^State:\s+(\S)/m.exec(text)?.[1] ?? '?', tracer: Number(/^TracerPid:\s+(\d+)/m.exec(text)?.[1]) };
}

/** A minimal eventfd plugin that also records how the target looked while it was dumped. */
class EventfdPlugin implements FdPlugin {
  readonly meta = { name: 'eventfd-test', version: '1.0.0', apiVersion: PLUGIN_API_VERSION, stateVersion: 1, description: 'test' };
  seen: Array<{ state: string; tracer: number }> = [];
  failWith: Error | undefined;

  claims(probe: FdProbe): boolean {
    return probe.link.toString() === 'anon_inode:[eventfd]';
  }

  checkpoint(files: readonly OpenFile[], ctx: CheckpointContext): void {
    for (const file of files) {
      this.seen.push(tracerState(file.pid));
      if (this.failWith !== undefined) throw this.failWith;
      ctx.addEntity(file, { kind: 'eventfd', state: {} });
    }
  }

  restore(entities: readonly EntityRecord[], ctx: RestoreContext): void {
    for (const entity of entities) ctx.provide(entity.id, eventfd(0, linux.O_CLOEXEC));
  }
}

const TARGET = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
os.closerange(3, 1 << 20)
efd = libc.eventfd(0, 0)
os.dup2(efd, 9); os.close(efd)
r, w = os.pipe()
os.write(w, b'kept')
os.dup2(r, 5); os.dup2(w, 6); os.close(r); os.close(w)
ready()
hold()
`;

const ws = useWorkspace();

function containerWith(...plugins: FdPlugin[]) {
  const container = createFdcrContainer();
  for (const plugin of plugins) registerPlugin(container, plugin);
  return container;
}

describe('checkpoint', () => {
  it('holds the target in a ptrace stop while plugins read it, and releases it after', async () => {
    const target = await startTarget(ws(), TARGET);
    const plugin = new EventfdPlugin();
    const image = ws().path('a.fdcr');
    const summary = await checkpoint(containerWith(pipePlugin(), plugin), {
      pids: [target.pid],
      output: image,
      skipUnsupported: true,
    });
    expect(plugin.seen).toEqual([{ state: 't', tracer: process.pid }]);
    expect(tracerState(target.pid)).toMatchObject({ tracer: 0 });
    expect(['S', 'R']).toContain(tracerState(target.pid).state);
    expect(summary.entities).toBeGreaterThanOrEqual(3);
  });

  it('thaws the target and leaves no image when a plugin fails', async () => {
    const target = await startTarget(ws(), TARGET);
    const plugin = new EventfdPlugin();
    plugin.failWith = new Error('boom');
    const image = ws().path('b.fdcr');
    const error = await checkpoint(containerWith(pipePlugin(), plugin), {
      pids: [target.pid],
      output: image,
      skipUnsupported: true,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('boom');
    expect(tracerState(target.pid).tracer).toBe(0);
    expect(['S', 'R']).toContain(tracerState(target.pid).state);
    expect(existsSync(image)).toBe(false);
  });

  it('takes a whole process tree with --tree', async () => {
    const target = await startTarget(ws(), `
os.closerange(3, 1 << 20)
r, w = os.pipe()
if os.fork() == 0:
    os.close(w)
    hold()
os.close(r)
os.write(w, b'to the child')
ready()
hold()
`);
    const image = ws().path('tree.fdcr');
    await fdcrOk(['dump', '--tree', String(target.pid), '--skip-unsupported', '-o', image]);
    const shown = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout);
    const pids = shown.processes.map((p: { pid: number }) => p.pid);
    expect(pids).toHaveLength(2);
    expect(pids[0]).toBe(target.pid);
    expect(shown.processes[1].ppid).toBe(target.pid);
    // Kill the child too: it was forked by the target, not started by the harness.
    process.kill(pids[1], 'SIGKILL');
  });
});

describe('terminals on descriptors 0-2', () => {
  it('records them as external and hands the restored process fdcr\'s own 0-2', async () => {
    const target = await startTarget(ws(), `
import pty
os.closerange(3, 1 << 20)
master, slave = pty.openpty()
for fd in (0, 1, 2): os.dup2(slave, fd)
os.close(slave)
os.dup2(master, 40); os.close(master)
r, w = os.pipe(); os.dup2(w, 7); os.close(r); os.close(w)
ready()
hold()
`);
    const image = ws().path('tty.fdcr');
    // The pty master on fd 40 is not a terminal on 0-2, so it is reported as unsupported...
    const refused = await fdcr(['dump', '--pid', String(target.pid), '-o', image]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`pid ${target.pid} fd 40 -> /dev/ptmx`);
    expect(refused.stderr).not.toMatch(/fd [012] ->/);
    // ...while the slave on 0-2 never is.
    await fdcrOk(['dump', '--pid', String(target.pid), '--skip-unsupported', '-o', image]);
    const shown = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout);
    const kinds = shown.entities.map((e: { plugin: string; kind: string }) => `${e.plugin}/${e.kind}`).sort();
    expect(kinds).toEqual(['external/terminal', 'external/unsupported', 'pipe/pipe']);
    const inside = await restoreAndVerify<{ tty: boolean[]; fds: number[] }>(ws(), image, `report({'tty': [os.isatty(fd) for fd in (0, 1, 2)], 'fds': fds()})`);
    expect(inside.tty).toEqual([false, false, false]);
    expect(inside.fds).toEqual([0, 1, 2, 7]);
  });
});

describe('restore', () => {
  it('refuses an image whose plugin is not registered, naming it, before creating anything', async () => {
    const target = await startTarget(ws(), TARGET);
    const image = ws().path('c.fdcr');
    await checkpoint(containerWith(pipePlugin(), new EventfdPlugin()), {
      pids: [target.pid],
      output: image,
      skipUnsupported: true,
    });
    const marker = ws().path('started');
    const error = await restore(containerWith(pipePlugin()), {
      image,
      commands: new Map([[target.pid, { argv: ['touch', marker] }]]),
    }).catch((e: unknown) => e);
    expect(isFdcrError(error, 'FDCR_E_PLUGIN_MISSING')).toBe(true);
    expect((error as Error).message).toContain('eventfd-test');
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses records newer than the registered plugin reads', async () => {
    const image = ws().path('d.fdcr');
    const writer = ImageWriter.create(image);
    writer.writeHeader({
      format: FORMAT_MAJOR, minor: FORMAT_MINOR, fdcr: '9.9.9', plugins: { pipe: { version: '9.0.0', state: 99 } },
      kernel: 'k', arch: 'x64', host: 'h', time: new Date(0).toISOString(),
    });
    writer.writeProcess({ pid: 1, ppid: 0, comm: 'x', argv: [Buffer.from('true')], cwd: Buffer.from('/') });
    writer.writeObject({ id: 1, plugin: 'pipe', kind: 'pipe', state: { ino: 1, capacity: 4096, bytes: 0 } });
    writer.writeEntity({ id: 1, plugin: 'pipe', kind: 'pipe', flags: 0, object: 1, state: {} });
    writer.writeDescriptor({ pid: 1, fd: 3, cloexec: false, entity: 1 });
    writer.finish();
    const error = await restore(containerWith(pipePlugin()), { image }).catch((e: unknown) => e);
    expect(isFdcrError(error, 'FDCR_E_PLUGIN_VERSION')).toBe(true);
  });

  it('exits with the first non-zero status of the restored processes', async () => {
    const target = await startTarget(ws(), TARGET);
    const image = ws().path('e.fdcr');
    await fdcrOk(['dump', '--pid', String(target.pid), '--skip-unsupported', '-o', image]);
    const result = await fdcr(['restore', image, '--', 'sh', '-c', 'exit 7']);
    expect(result.code).toBe(7);
  });
});

describe('restore, all or nothing', () => {
  async function dumped(): Promise<{ image: string; pid: number }> {
    const target = await startTarget(ws(), TARGET);
    const image = ws().path('f.fdcr');
    await fdcrOk(['dump', '--pid', String(target.pid), '--skip-unsupported', '-o', image]);
    return { image, pid: target.pid };
  }

  it('refuses a command for a pid the image does not hold, echoing it', async () => {
    const { image, pid } = await dumped();
    const marker = ws().path('started');
    const result = await fdcr(['restore', image, '--exec', `${pid}=touch ${marker}`, '--exec', `${pid + 100000}=true`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^fdcr: FDCR_E_ARG_INVALID: .*process ${pid + 100000}`, 'm'));
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a missing program in one line and starts nothing', async () => {
    const { image } = await dumped();
    const result = await fdcr(['restore', image, '--', '/nonexistent/program']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_RESTORE_SPAWN: cannot start \/nonexistent\/program/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr).not.toContain("Unhandled 'error' event");
  });

  it('starts none of several processes when one cannot start (its directory is gone)', async () => {
    const gone = ws().path('gone');
    const target = await startTarget(ws(), `
r, w = os.pipe()
os.dup2(r, 5); os.dup2(w, 6)
os.mkdir(${JSON.stringify(gone)})
if os.fork() == 0:
    os.chdir(${JSON.stringify(gone)})
    hold()
time.sleep(0.2)
ready()
hold()
`);
    const image = ws().path('g.fdcr');
    await fdcrOk(['dump', '--tree', String(target.pid), '--skip-unsupported', '-o', image]);
    const pids = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout).processes.map((p: { pid: number }) => p.pid);
    process.kill(pids[1], 'SIGKILL');
    rmSync(gone, { recursive: true });
    const marker = ws().path('first-ran');
    // The second process re-runs its recorded argv in its recorded, now missing, directory.
    const result = await fdcr(['restore', image, '--exec', `${pids[0]}=touch ${marker}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^fdcr: FDCR_E_RESTORE_SPAWN: cannot start process \d+: no directory /m);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('freezing', () => {
  it('hands back a signal that arrived while the target was frozen', async () => {
    const target = await startTarget(ws(), `
import signal, ctypes
efd = ctypes.CDLL(None).eventfd(0, 0)
got = []
signal.signal(signal.SIGUSR1, lambda *a: got.append('usr1'))
ready()
while not got: time.sleep(0.01)
report({'got': got})
hold()
`);
    const plugin = new EventfdPlugin();
    const container = containerWith(pipePlugin(), plugin);
    // The signal is sent while the dump holds the target; it must be delivered after.
    const origCheckpoint = plugin.checkpoint.bind(plugin);
    plugin.checkpoint = (files, ctx) => {
      process.kill(target.pid, 'SIGUSR1');
      origCheckpoint(files, ctx);
    };
    await checkpoint(container, { pids: [target.pid], output: ws().path('s.fdcr'), skipUnsupported: true });
    const deadline = Date.now() + 5000;
    while (!existsSync(ws().path('target.out')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(JSON.parse(readFileSync(ws().path('target.out'), 'utf8'))).toEqual({ got: ['usr1'] });
  });

  it('kills the targets before thawing them with kill, and leaves no zombie traced by fdcr', async () => {
    const target = await startTarget(ws(), TARGET);
    const image = ws().path('k.fdcr');
    await checkpoint(containerWith(pipePlugin(), new EventfdPlugin()), {
      pids: [target.pid],
      output: image,
      skipUnsupported: true,
      kill: true,
    });
    expect(existsSync(image)).toBe(true);
    const deadline = Date.now() + 5000;
    while (existsSync(`/proc/${target.pid}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(`/proc/${target.pid}`)).toBe(false);
  });
});
