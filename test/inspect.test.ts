import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  fdcrOk,
  readReport,
  startTarget,
  useWorkspace,
  type Workspace,
} from './support/scenario.js';

// Live inspection of real processes: fdcr inspect must describe them exactly and leave them
// as they were, which each target checks from the inside afterwards.

const hasDot = (() => {
  try {
    execFileSync('dot', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Moves fd `src` to the fixed number `dst`, so the layout (and the output) is stable. */
const PY = `
def place(src, dst):
    os.dup2(src, dst, inheritable=True)
    os.close(src)
def wait_for(path):
    while not os.path.exists(path): time.sleep(0.01)
def drain(fd):
    os.set_blocking(fd, False)
    out = b''
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return out
        if not chunk: return out
        out += chunk
`;

/** The target's state letter and tracer, from /proc/PID/status. */
function stateOf(pid: number): { state: string; tracer: string } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { state: /^State:\s+(\S)/m.exec(status)?.[1] ?? '?', tracer: /^TracerPid:\s+(\d+)/m.exec(status)?.[1] ?? '?' };
}

/** Replaces what differs between runs (pids, inodes, paths) with stable names. */
function normalise(text: string, names: Record<string, string>, ws: Workspace): string {
  let out = text.split(ws.dir).join('<WS>').replace(/(pipe|socket):\[\d+\]/g, '$1:[<INO>]');
  for (const [value, name] of Object.entries(names)) out = out.replace(new RegExp(`\\b${value}\\b`, 'g'), name);
  return out;
}

const ws = useWorkspace();

const PIPE_TARGET = `${PY}
os.closerange(3, 4096)
r, w = os.pipe()
place(r, 10); place(w, 11)
fcntl.fcntl(11, fcntl.F_SETFL, os.O_NONBLOCK)
os.set_inheritable(11, False)
os.write(11, b'payload: hello, fdcr\\n')
d = os.dup(10); place(d, 12)
ready()
wait_for(os.environ['FDCR_READY'] + '.go')
report({'data': drain(10).decode()})
hold()
`;

describe('fdcr inspect', () => {
  it('describes pipes, flags, sharing and pending data of a live process', async () => {
    const target = await startTarget(ws(), PIPE_TARGET);
    const { stdout } = await fdcrOk(['inspect', String(target.pid), '--data']);
    const header = /^process \d+ \(python3\), parent \d+, state S: \S*python3 -c .*$/m;
    expect(stdout).toMatch(header);
    const text = normalise(stdout.replace(header, '<HEADER>'), { [target.pid]: '<PID>' }, ws());
    expect(text).toMatchInlineSnapshot(`
      "<HEADER>
      FD  TYPE  MODE  FLAGS     OFFSET  CLOEXEC  FILE   PENDING  CAP  TARGET
      0   chr   r     -         -       no       #1                   /dev/null
      1   file  w     APPEND    0       no       #2 x2                <WS>/target.log
      2   file  w     APPEND    0       no       #2 x2                <WS>/target.log
      10  pipe  r     -         -       no       #3 x2  21       64K  pipe:[<INO>]
      11  pipe  w     NONBLOCK  -       yes      #4     21       64K  pipe:[<INO>]
      12  pipe  r     -         -       no       #3 x2  21       64K  pipe:[<INO>]
      other holders:
        fd 10 pipe:[<INO>]: <PID> python3 fd 11 writes; <PID> python3 fd 12 reads
        fd 11 pipe:[<INO>]: <PID> python3 fd 10 reads; <PID> python3 fd 12 reads
        fd 12 pipe:[<INO>]: <PID> python3 fd 10 reads; <PID> python3 fd 11 writes
      pending data:
        fd 10 pipe:[<INO>]: "payload: hello, fdcr\\n"
        fd 11 pipe:[<INO>]: "payload: hello, fdcr\\n"
        fd 12 pipe:[<INO>]: "payload: hello, fdcr\\n"
      "
    `);
  });

  it('prints a stable JSON document', async () => {
    const target = await startTarget(ws(), PIPE_TARGET);
    const { stdout } = await fdcrOk(['inspect', String(target.pid), '--json', '--data']);
    const doc = JSON.parse(stdout);
    const proc = doc.processes[0];
    expect(Object.keys(doc)).toEqual(['fdcr', 'kind', 'processes', 'shared', 'scanned']);
    expect(proc.pid).toBe(target.pid);
    expect(proc.comm).toBe('python3');
    const pipes = proc.fds
      .filter((fd: { fd: number }) => fd.fd >= 10)
      .map((fd: Record<string, unknown>) => JSON.parse(normalise(JSON.stringify({ ...fd, inode: 0, file: typeof fd.file }), { [target.pid]: '"<PID>"' }, ws())));
    expect(pipes).toMatchInlineSnapshot(`
      [
        {
          "access": "r",
          "capacity": 65536,
          "cloexec": false,
          "details": {},
          "fd": 10,
          "file": "number",
          "flags": 0,
          "handler": "pipe",
          "inode": 0,
          "kind": null,
          "offset": 0,
          "peerInode": null,
          "peers": [
            {
              "access": "w",
              "comm": "python3",
              "fd": 11,
              "pid": "<PID>",
            },
            {
              "access": "r",
              "comm": "python3",
              "fd": 12,
              "pid": "<PID>",
            },
          ],
          "pendingIn": 21,
          "pendingOut": null,
          "preview": "payload: hello, fdcr\\n",
          "statusFlags": [],
          "target": "pipe:[<INO>]",
          "type": "pipe",
          "unavailable": [],
        },
        {
          "access": "w",
          "capacity": 65536,
          "cloexec": true,
          "details": {},
          "fd": 11,
          "file": "number",
          "flags": 2049,
          "handler": "pipe",
          "inode": 0,
          "kind": null,
          "offset": 0,
          "peerInode": null,
          "peers": [
            {
              "access": "r",
              "comm": "python3",
              "fd": 10,
              "pid": "<PID>",
            },
            {
              "access": "r",
              "comm": "python3",
              "fd": 12,
              "pid": "<PID>",
            },
          ],
          "pendingIn": null,
          "pendingOut": 21,
          "preview": "payload: hello, fdcr\\n",
          "statusFlags": [
            "O_NONBLOCK",
          ],
          "target": "pipe:[<INO>]",
          "type": "pipe",
          "unavailable": [],
        },
        {
          "access": "r",
          "capacity": 65536,
          "cloexec": false,
          "details": {},
          "fd": 12,
          "file": "number",
          "flags": 0,
          "handler": "pipe",
          "inode": 0,
          "kind": null,
          "offset": 0,
          "peerInode": null,
          "peers": [
            {
              "access": "r",
              "comm": "python3",
              "fd": 10,
              "pid": "<PID>",
            },
            {
              "access": "w",
              "comm": "python3",
              "fd": 11,
              "pid": "<PID>",
            },
          ],
          "pendingIn": 21,
          "pendingOut": null,
          "preview": "payload: hello, fdcr\\n",
          "statusFlags": [],
          "target": "pipe:[<INO>]",
          "type": "pipe",
          "unavailable": [],
        },
      ]
    `);
    expect(doc.shared).toContainEqual({
      file: proc.fds.find((f: { fd: number }) => f.fd === 10).file,
      holders: [
        { pid: target.pid, fd: 10 },
        { pid: target.pid, fd: 12 },
      ],
    });
  });

  it('leaves the target byte-for-byte unchanged, running and untraced', async () => {
    const target = await startTarget(ws(), PIPE_TARGET);
    for (const args of [['--data'], ['--json', '--data'], ['--graph'], ['--verbose']]) {
      await fdcrOk(['inspect', String(target.pid), ...args]);
    }
    // Running or sleeping (it polls for the go file), never stopped (T) or traced (t).
    expect(stateOf(target.pid)).toEqual({ state: expect.stringMatching(/^[RS]$/), tracer: '0' });
    writeFileSync(ws().path('target.ready.go'), '1');
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        expect(readReport(ws())).toEqual({ data: 'payload: hello, fdcr\n' });
        return;
      } catch {
        await sleep(20);
      }
    }
    expect(readReport(ws())).toEqual({ data: 'payload: hello, fdcr\n' });
  });

  it('finds the other end of a pipe in a process that was not named', async () => {
    const target = await startTarget(ws(), `${PY}
r, w = os.pipe()
os.write(w, b'abc')
child = os.fork()
if child == 0:
    os.close(w)
    time.sleep(3600)
os.close(r)
place(w, 20)
report({'child': child})
ready()
hold()
`);
    const { child } = readReport<{ child: number }>(ws());
    const doc = JSON.parse((await fdcrOk(['inspect', String(target.pid), '--json'])).stdout);
    const end = doc.processes[0].fds.find((fd: { fd: number }) => fd.fd === 20);
    expect(end).toMatchObject({ type: 'pipe', access: 'w', pendingOut: 3, capacity: 65536 });
    expect(end.peers).toContainEqual({ pid: child, fd: expect.any(Number), comm: 'python3', access: 'r' });
    const { stdout } = await fdcrOk(['inspect', String(target.pid)]);
    expect(stdout).toMatch(new RegExp(`fd 20 pipe:\\[\\d+\\]: .*${child} python3 fd \\d+ reads`));
  });

  it('groups descriptors shared across a process tree', async () => {
    const target = await startTarget(ws(), `${PY}
r, w = os.pipe()
place(w, 30)
child = os.fork()
if child == 0:
    time.sleep(3600)
report({'child': child})
ready()
hold()
`);
    const { child } = readReport<{ child: number }>(ws());
    const doc = JSON.parse((await fdcrOk(['inspect', '--tree', String(target.pid), '--json'])).stdout);
    expect(doc.processes.map((p: { pid: number }) => p.pid)).toEqual([target.pid, child]);
    expect(doc.shared).toContainEqual({
      file: expect.any(Number),
      holders: [
        { pid: target.pid, fd: 30 },
        { pid: child, fd: 30 },
      ],
    });
  });

  it.skipIf(!hasDot)('draws a graph that Graphviz renders', async () => {
    const target = await startTarget(ws(), PIPE_TARGET);
    const { stdout: dot } = await fdcrOk(['inspect', String(target.pid), '--graph']);
    expect(dot).toMatch(/^digraph fdcr \{/);
    expect(dot).toMatch(/-> ".*" \[penwidth=2, .*label="pipe:\[\d+\]\\n21 B pending"\]/);
    const svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    expect(svg).toContain('<svg');
    const { stdout } = await fdcrOk(['inspect', String(target.pid), '--graph', 'svg']);
    expect(stdout).toContain('<svg');
  });
});

describe('fdcr show --graph', () => {
  it.skipIf(!hasDot)('draws an image as valid Graphviz with the pipe as a labelled edge', async () => {
    const target = await startTarget(ws(), `${PY}
r, w = os.pipe()
os.write(w, b'12345')
place(r, 10); place(w, 11)
ready()
hold()
`);
    const image = ws().path('app.fdcr');
    await fdcrOk(['dump', '--pid', String(target.pid), '-o', image, '--skip-unsupported']);
    const { stdout: dot } = await fdcrOk(['show', image, '--graph']);
    expect(dot).toMatch(/"e\d+" -> "e\d+" \[penwidth=2, color="#1f6feb", dir=forward, label="pipe\\n5 B pending"\]/);
    expect(execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' })).toContain('<svg');
  });
});
