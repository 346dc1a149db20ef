import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CLI,
  fdcr,
  fdcrOk,
  isAlive,
  readReport,
  restoreAndVerify,
  script,
  startTarget,
  useWorkspace,
  type CliResult,
  type Target,
} from './support/scenario.js';

// Real-process round trips for pipes and FIFOs: a python target sets up its pipes, fdcr dumps
// it, and a fresh python process restored from the image checks them from the inside.
// Targets' 0-2 (/dev/null and a log file) belong to no plugin yet, hence --skip-unsupported.

/** Python helpers shared by targets and verifiers, on top of the harness prelude. */
const PY = `
import random, hashlib, ctypes, signal
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
MEANINGFUL = os.O_ACCMODE | os.O_NONBLOCK | os.O_DIRECT | os.O_APPEND | os.O_ASYNC | os.O_NOATIME
signal.alarm(60)
def pattern(seed, n):
    return random.Random(seed).randbytes(n)
def digest(b):
    return hashlib.sha256(b).hexdigest()
def getfl(fd):
    return fcntl.fcntl(fd, fcntl.F_GETFL) & MEANINGFUL
def setfl(fd, on=0, off=0):
    fcntl.fcntl(fd, fcntl.F_SETFL, (fcntl.fcntl(fd, fcntl.F_GETFL) | on) & ~off)
def capacity(fd):
    return fcntl.fcntl(fd, F_GETPIPE_SZ)
def pending(fd):
    return struct.unpack('i', fcntl.ioctl(fd, 0x541B, b'\\0\\0\\0\\0'))[0]
def drain(fd):
    old = fcntl.fcntl(fd, fcntl.F_GETFL)
    setfl(fd, on=os.O_NONBLOCK)
    out = []
    try:
        while True:
            b = os.read(fd, 1 << 20)
            if not b: break
            out.append(b)
    except BlockingIOError:
        pass
    fcntl.fcntl(fd, fcntl.F_SETFL, old)
    return b''.join(out)
def write_all(fd, data):
    done = 0
    while done < len(data): done += os.write(fd, data[done:])
def move(fd, to):
    os.dup2(fd, to, inheritable=False)
    os.close(fd)
    return to
`;

/** A Python literal holding `value` as parsed JSON. */
function py(value: unknown): string {
  return `json.loads(${JSON.stringify(JSON.stringify(value))})`;
}

/** Runs a shell command line with positional arguments $1...; never throws. */
function sh(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command, 'sh', ...args], { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

/** The fields of /proc/PID/status that tell whether a process runs untraced. */
function procStatus(pid: number): { state: string; tracer: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const state = /^State:\s+(\S)/m.exec(text)?.[1] ?? '?';
  const tracer = Number(/^TracerPid:\s+(\d+)/m.exec(text)?.[1]);
  return { state, tracer };
}

/** Waits until `pid` is gone (killed targets are reaped by init, not by us). */
async function awaitDeath(pid: number, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

const ERROR_LINE = /^fdcr: (FDCR_E_[A-Z_]+): /m;
const STACK_LINE = /^\s+at /m;

const ws = useWorkspace();
let images = 0;

/**
 * Starts a target. It first closes whatever descriptors above 2 it inherited from the test
 * runner, so that its descriptor table is exactly what its body sets up.
 */
function target(body: string, name?: string): Promise<Target> {
  return startTarget(ws(), `${PY}\nos.closerange(3, 1 << 20)\n${body}`, name);
}

function verify<T = Record<string, unknown>>(image: string, body: string): Promise<T> {
  return restoreAndVerify<T>(ws(), image, PY + body);
}

/** Dumps `pids` into a new image in the workspace and returns its path. */
async function dump(pids: readonly number[], extra: readonly string[] = []): Promise<string> {
  const image = ws().path(`image-${++images}.fdcr`);
  await fdcrOk(['dump', ...pids.flatMap((p) => ['--pid', String(p)]), '--skip-unsupported', '-o', image, ...extra]);
  return image;
}

/** Dumps a single target, kills it, and returns the image. */
async function dumpAndKill(t: Target): Promise<string> {
  const image = await dump([t.pid]);
  t.kill();
  return image;
}

describe('pipe round trip', () => {
  it('restores every pending byte in order at the original fd numbers, and nothing else', async () => {
    const t = await target(`
r, w = os.pipe()
r, w = move(r, 7), move(w, 12)
write_all(w, pattern(1, 50000))
report({'fds': fds()})
ready(); hold()
`);
    expect(readReport(ws()).fds).toEqual([0, 1, 2, 7, 12]);
    const image = await dumpAndKill(t);

    const got = await verify(image, `
result = {'fds': fds(), 'modes': [getfl(7) & os.O_ACCMODE, getfl(12) & os.O_ACCMODE],
          'same': os.fstat(7).st_ino == os.fstat(12).st_ino}
data = drain(7)
result['length'], result['intact'] = len(data), data == pattern(1, 50000)
os.close(12)
# Blocks unless every other copy of the write end (fdcr's included) is closed.
result['eof'] = os.read(7, 1) == b''
report(result)
`);
    expect(got).toEqual({
      fds: [0, 1, 2, 7, 12],
      modes: [0, 1],
      same: true,
      length: 50000,
      intact: true,
      eof: true,
    });
  });

  it('gives a restored process none of the descriptors fdcr itself inherited', async () => {
    const t = await target(`
r, w = os.pipe()
w = move(w, 7)
write_all(w, b'x')
report({'fds': fds()})
ready(); hold()
`);
    expect(readReport(ws()).fds).toEqual([0, 1, 2, 3, 7]);
    const image = await dumpAndKill(t);
    const out = ws().path('inherited.json');

    // fdcr runs with fd 5 (a gap in the image) and fd 9 (above its fds) open without
    // FD_CLOEXEC, as a careless parent would leave them.
    const result = await sh('exec 5</dev/null 9</dev/null; exec "$1" "$2" restore "$3" -- python3 -c "$4"', [
      process.execPath,
      CLI,
      image,
      script(`${PY}\nreport({'fds': fds()})`),
    ], { FDCR_TEST_OUT: out });

    expect(result.stderr).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ fds: [0, 1, 2, 3, 7] });
  });

  it('restores a full 1 MiB pipe with its capacity', async () => {
    const t = await target(`
r, w = os.pipe()
got = fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)
write_all(w, pattern(2, 1 << 20))
setfl(w, on=os.O_NONBLOCK)
try:
    os.write(w, b'x'); full = False
except BlockingIOError:
    full = True
setfl(w, off=os.O_NONBLOCK)
report({'r': r, 'w': w, 'capacity': got, 'full': full})
ready(); hold()
`);
    const { r, w, capacity, full } =
      readReport<{ r: number; w: number; capacity: number; full: boolean }>(ws());
    expect({ capacity, full }).toEqual({ capacity: 1 << 20, full: true });
    const image = await dumpAndKill(t);

    const got = await verify(image, `
result = {'capacity': [capacity(${r}), capacity(${w})], 'pending': pending(${r})}
setfl(${w}, on=os.O_NONBLOCK)
try:
    os.write(${w}, b'x'); result['full'] = False
except BlockingIOError:
    result['full'] = True
data = drain(${r})
result['length'], result['intact'] = len(data), data == pattern(2, 1 << 20)
report(result)
`);
    expect(got).toEqual({
      capacity: [1 << 20, 1 << 20],
      pending: 1 << 20,
      full: true,
      length: 1 << 20,
      intact: true,
    });
  });

  it('keeps dup()ed ends sharing one open file and a /proc reopened end independent', async () => {
    const t = await target(`
r, w = os.pipe()
w2 = os.dup(w)
r2 = os.open(f'/proc/self/fd/{r}', os.O_RDONLY)
write_all(w, b'shared pipe')
report({'r': r, 'w': w, 'w2': w2, 'r2': r2})
ready(); hold()
`);
    const ends = readReport<Record<string, number>>(ws());
    const image = await dumpAndKill(t);

    const got = await verify(image, `
e = ${py(ends)}
result = {'before': {k: getfl(fd) & os.O_NONBLOCK for k, fd in e.items()},
          'pipes': len({os.fstat(fd).st_ino for fd in e.values()})}
setfl(e['w'], on=os.O_NONBLOCK)
setfl(e['r'], on=os.O_NONBLOCK)
result['after'] = {k: getfl(fd) & os.O_NONBLOCK for k, fd in e.items()}
result['data'] = drain(e['r2']).decode()
report(result)
`);
    const N = 0o4000;
    expect(got).toEqual({
      before: { r: 0, w: 0, w2: 0, r2: 0 },
      pipes: 1,
      // w2 shares w's open file description; r2 was opened anew and keeps its own flags.
      after: { r: N, w: N, w2: N, r2: 0 },
      data: 'shared pipe',
    });
  });

  it('restores O_NONBLOCK on one end only', async () => {
    const t = await target(`
a_r, a_w = os.pipe()
b_r, b_w = os.pipe()
setfl(a_r, on=os.O_NONBLOCK)
setfl(b_w, on=os.O_NONBLOCK)
ends = {'a_r': a_r, 'a_w': a_w, 'b_r': b_r, 'b_w': b_w}
report({'ends': ends, 'flags': {k: getfl(fd) for k, fd in ends.items()}})
ready(); hold()
`);
    const { ends, flags } = readReport<{ ends: Record<string, number>; flags: Record<string, number> }>(ws());
    expect(flags).toEqual({ a_r: 0o4000, a_w: 1 | 0, b_r: 0, b_w: 1 | 0o4000 });
    const image = await dumpAndKill(t);

    const got = await verify(image, `
report({k: getfl(fd) for k, fd in ${py(ends)}.items()})
`);
    expect(got).toEqual(flags);
  });

  it('restores a non-blocking pipe at standard input with its flags and data', async () => {
    const t = await target(`
r, w = os.pipe()
os.dup2(r, 0, inheritable=False)
os.close(r)
setfl(0, on=os.O_NONBLOCK)
write_all(w, b'piped into stdin')
report({'w': w, 'flags': getfl(0)})
ready(); hold()
`);
    const { w, flags } = readReport<{ w: number; flags: number }>(ws());
    expect(flags).toBe(0o4000);
    const image = await dumpAndKill(t);

    const got = await verify(image, `
report({'flags': getfl(0), 'data': drain(0).decode(), 'same': os.fstat(0).st_ino == os.fstat(${w}).st_ino})
`);
    expect(got).toEqual({ flags, data: 'piped into stdin', same: true });
  });

  it('captures data placed with vmsplice and with splice from a file', async () => {
    const file = ws().path('spliced.bin');
    const t = await target(`
libc = ctypes.CDLL(None, use_errno=True)
libc.vmsplice.restype = ctypes.c_ssize_t
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
parts = [pattern(50, 3000), pattern(51, 4096), pattern(52, 777)]
bufs = [ctypes.create_string_buffer(p, len(p)) for p in parts]
iov = (iovec * 3)(*[iovec(ctypes.cast(b, ctypes.c_void_p), len(p)) for b, p in zip(bufs, parts)])
vr, vw = os.pipe()
n = libc.vmsplice(vw, iov, 3, 0)
assert n == sum(map(len, parts)), (n, ctypes.get_errno())
with open(${JSON.stringify(file)}, 'wb') as f:
    f.write(pattern(60, 20000))
src = os.open(${JSON.stringify(file)}, os.O_RDONLY)
sr, sw = os.pipe()
moved = 0
while moved < 20000:
    moved += os.splice(src, sw, 20000 - moved)
os.close(src)
write_all(sw, b'tail written after the splice')
report({'vr': vr, 'sr': sr})
ready(); hold()
`);
    const { vr, sr } = readReport<{ vr: number; sr: number }>(ws());
    const image = await dumpAndKill(t);
    // Spliced pipe buffers reference the file's page cache: the image must hold a copy.
    writeFileSync(file, Buffer.alloc(20000, 0xee));

    const got = await verify(image, `
v = drain(${vr})
s = drain(${sr})
report({'vmsplice': v == pattern(50, 3000) + pattern(51, 4096) + pattern(52, 777),
        'splice': s == pattern(60, 20000) + b'tail written after the splice',
        'lengths': [len(v), len(s)]})
`);
    expect(got).toEqual({ vmsplice: true, splice: true, lengths: [7873, 20029] });
  });

  it('restores 100 pipes of different capacities and data lengths', async () => {
    const t = await target(`
pipes = []
for i in range(100):
    r, w = os.pipe()
    size = fcntl.fcntl(w, F_SETPIPE_SZ, 4096 << (i % 7))
    n = (i * 7919) % (size + 1)
    write_all(w, pattern(1000 + i, n))
    pipes.append({'r': r, 'w': w, 'capacity': size, 'n': n})
report({'pipes': pipes})
ready(); hold()
`);
    type Reported = { pipes: Array<{ r: number; w: number; capacity: number; n: number }> };
    const { pipes } = readReport<Reported>(ws());
    expect(new Set(pipes.map((p) => p.capacity)).size).toBe(7);
    const image = await dumpAndKill(t);

    const got = await verify<{ pipes: unknown[]; fds: number[] }>(image, `
out = []
for i, p in enumerate(${py(pipes)}):
    data = drain(p['r'])
    out.append({'r': p['r'], 'w': p['w'], 'capacity': capacity(p['w']), 'n': len(data) if data == pattern(1000 + i, p['n']) else -1})
report({'pipes': out, 'fds': fds()})
`);
    expect(got.pipes).toEqual(pipes);
    expect(got.fds).toEqual([0, 1, 2, ...pipes.flatMap((p) => [p.r, p.w])].sort((a, b) => a - b));
  });

  it('restores a FIFO without blocking, with its access modes and its data', async () => {
    const path = ws().path('fifo');
    const t = await target(`
path = ${JSON.stringify(path)}
os.mkfifo(path)
rw = os.open(path, os.O_RDWR)
rd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
wr = os.open(path, os.O_WRONLY)
write_all(wr, pattern(7, 10000))
ends = {'rw': rw, 'rd': rd, 'wr': wr}
report({'ends': ends, 'flags': {k: getfl(fd) for k, fd in ends.items()}})
ready(); hold()
`);
    const { ends, flags } = readReport<{ ends: Record<string, number>; flags: Record<string, number> }>(ws());
    expect(flags).toEqual({ rw: 2, rd: 0o4000, wr: 1 });
    const image = await dumpAndKill(t);

    const started = Date.now();
    const got = await verify(image, `
e = ${py(ends)}
flags = {k: getfl(fd) for k, fd in e.items()}
same = all(os.fstat(fd).st_ino == os.stat(${JSON.stringify(path)}).st_ino for fd in e.values())
data = drain(e['rd'])
report({'flags': flags, 'same': same, 'intact': data == pattern(7, 10000)})
`);
    expect(got).toEqual({ flags, same: true, intact: true });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('returns exactly one original message per read from a packet-mode pipe', async () => {
    const sizes = [1, 17, 512, 4096, 100, 3000];
    const t = await target(`
r, w = os.pipe2(os.O_DIRECT)
for i, size in enumerate(${py(sizes)}):
    assert os.write(w, pattern(80 + i, size)) == size
# pipe2() gives O_DIRECT to the write end only.
report({'r': r, 'w': w, 'direct': [bool(getfl(r) & os.O_DIRECT), bool(getfl(w) & os.O_DIRECT)]})
ready(); hold()
`);
    const { r, w, direct } = readReport<{ r: number; w: number; direct: boolean[] }>(ws());
    expect(direct).toEqual([false, true]);
    const image = await dumpAndKill(t);

    const got = await verify(image, `
reads = []
setfl(${r}, on=os.O_NONBLOCK)
try:
    while True:
        reads.append(os.read(${r}, 65536))
except BlockingIOError:
    pass
report({'sizes': [len(m) for m in reads],
        'intact': all(m == pattern(80 + i, len(m)) for i, m in enumerate(reads)),
        'direct': [bool(getfl(${r}) & os.O_DIRECT), bool(getfl(${w}) & os.O_DIRECT)]})
`);
    expect(got).toEqual({ sizes, intact: true, direct });
  });
});

describe('pipeline of two processes', () => {
  it('delivers old data, then new data, then end-of-file across restored processes', async () => {
    const writer = await target(`
r, w = os.pipe()
child = os.fork()
if child == 0:
    os.close(w)
    hold()
os.close(r)
write_all(w, pattern(9, 30000))
report({'w': w, 'r': r, 'reader': child})
ready(); hold()
`);
    const { w, r, reader } = readReport<{ w: number; r: number; reader: number }>(ws());
    const image = await dump([writer.pid, reader]);
    writer.kill();
    process.kill(reader, 'SIGKILL');

    writeFileSync(ws().path('writer.py'), script(`${PY}
write_all(${w}, pattern(10, 5000))
os.close(${w})
report({'fds': fds()})
`));
    writeFileSync(ws().path('reader.py'), script(`${PY}
fds_at_start = fds()
chunks = []
while True:
    b = os.read(${r}, 65536)
    if not b: break
    chunks.append(b)
data = b''.join(chunks)
report({'fds': fds_at_start, 'length': len(data), 'intact': data == pattern(9, 30000) + pattern(10, 5000)})
`));
    const run = (name: string) => `FDCR_TEST_OUT=${ws().path(`${name}.json`)} python3 ${ws().path(`${name}.py`)}`;
    await fdcrOk(['restore', image, '--exec', `${writer.pid}=${run('writer')}`, '--exec', `${reader}=${run('reader')}`], {
      timeoutMs: 40_000,
    });

    expect(JSON.parse(readFileSync(ws().path('writer.json'), 'utf8'))).toEqual({ fds: [0, 1, 2] });
    expect(JSON.parse(readFileSync(ws().path('reader.json'), 'utf8'))).toEqual({
      fds: [0, 1, 2, r],
      length: 35000,
      intact: true,
    });
  });
});

describe('fdcr dump', () => {
  it('leaves a target it did not kill running and unchanged', async () => {
    const fifo = ws().path('fifo');
    const t = await target(`
a_r, a_w = os.pipe()
fcntl.fcntl(a_w, F_SETPIPE_SZ, 1 << 18)
write_all(a_w, pattern(20, 100000))
b_r, b_w = os.pipe2(os.O_DIRECT | os.O_NONBLOCK)
for i in range(5): os.write(b_w, pattern(30 + i, 100 * (i + 1)))
os.mkfifo(${JSON.stringify(fifo)})
f = os.open(${JSON.stringify(fifo)}, os.O_RDWR)
write_all(f, b'fifo data')
ends = {'a_r': a_r, 'a_w': a_w, 'b_r': b_r, 'b_w': b_w, 'f': f}
def state():
    return {'flags': {k: getfl(fd) for k, fd in ends.items()},
            'capacity': {k: capacity(fd) for k, fd in ends.items()},
            'pending': [pending(a_r), pending(b_r), pending(f)]}
report(state())
ready()
while not os.path.exists(os.environ['FDCR_READY'] + '.go'): time.sleep(0.01)
after = state()
packets = []
try:
    while True: packets.append(os.read(b_r, 65536))
except BlockingIOError:
    pass
after['a'] = drain(a_r) == pattern(20, 100000)
after['b'] = [len(p) for p in packets] if all(p == pattern(30 + i, len(p)) for i, p in enumerate(packets)) else None
after['f'] = drain(f).decode()
# Written aside and renamed, so that the test never reads half a report.
with open(os.environ['FDCR_TEST_OUT'] + '.tmp', 'w') as out: json.dump(after, out)
os.rename(os.environ['FDCR_TEST_OUT'] + '.tmp', os.environ['FDCR_TEST_OUT'])
hold()
`);
    const before = readReport(ws());
    await dump([t.pid]);

    expect(isAlive(t.pid)).toBe(true);
    expect(procStatus(t.pid)).toEqual({ state: expect.stringMatching(/^[RS]$/), tracer: 0 });
    writeFileSync(ws().path('target.ready.go'), '');
    const deadline = Date.now() + 10_000;
    while (readReport(ws()).a === undefined && Date.now() < deadline) await sleep(10);
    expect(readReport(ws())).toEqual({ ...before, a: true, b: [100, 200, 300, 400, 500], f: 'fifo data' });
  });

  it('kills the target after a successful dump with --kill', async () => {
    const t = await target(`
r, w = os.pipe()
write_all(w, b'last words')
report({'r': r})
ready(); hold()
`);
    const { r } = readReport<{ r: number }>(ws());
    const image = await dump([t.pid], ['--kill']);

    expect(await awaitDeath(t.pid)).toBe(true);
    expect(await verify(image, `report({'data': drain(${r}).decode()})`)).toEqual({ data: 'last words' });
  });

  it('streams an image to standard output that fdcr restore reads from standard input', async () => {
    const t = await target(`
r, w = os.pipe()
write_all(w, pattern(40, 200000 // 4))
report({'r': r})
ready(); hold()
`);
    const { r } = readReport<{ r: number }>(ws());
    const out = ws().path('streamed.json');
    const verifier = script(`${PY}
data = drain(${r})
report({'length': len(data), 'intact': data == pattern(40, 50000)})
`);
    const result = await sh(
      '"$1" "$2" dump --pid "$3" --skip-unsupported -o - | "$1" "$2" restore - -- python3 -c "$4"',
      [process.execPath, CLI, String(t.pid), verifier],
      { FDCR_TEST_OUT: out },
    );

    expect(result.stderr).not.toMatch(ERROR_LINE);
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({ length: 50000, intact: true });
  });

  it('refuses a missing pid with FDCR_E_PROC_NOT_FOUND', async () => {
    const gone = await sh('sh -c "echo \\$\\$"', []);
    const pid = Number(gone.stdout.trim());
    expect(isAlive(pid)).toBe(false);

    const result = await fdcr(['dump', '--pid', String(pid), '-o', ws().path('none.fdcr')]);
    expect(result.code).not.toBe(0);
    expect(ERROR_LINE.exec(result.stderr)?.[1]).toBe('FDCR_E_PROC_NOT_FOUND');
    expect(result.stderr).toContain(String(pid));
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(ws().dir)).toEqual([]);
  });

  it('refuses an unsupported fd, naming pid, fd and what it is, and leaves the target running', async () => {
    const t = await target(`
import select
r, w = os.pipe()
efd = os.eventfd(0)
ep = select.epoll()
report({'efd': efd, 'ep': ep.fileno()})
ready(); hold()
`);
    const { efd, ep } = readReport<{ efd: number; ep: number }>(ws());
    const image = ws().path('refused.fdcr');
    const result = await fdcr(['dump', '--pid', String(t.pid), '-o', image]);

    expect(result.code).not.toBe(0);
    expect(ERROR_LINE.exec(result.stderr)?.[1]).toBe('FDCR_E_DUMP_UNSUPPORTED_FD');
    expect(result.stderr).toContain(`pid ${t.pid} fd ${efd} -> anon_inode:[eventfd]`);
    expect(result.stderr).toContain(`pid ${t.pid} fd ${ep} -> anon_inode:[eventpoll]`);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(ws().dir).filter((n) => n.includes('refused'))).toEqual([]);
    expect(isAlive(t.pid)).toBe(true);
    expect(procStatus(t.pid)).toEqual({ state: expect.stringMatching(/^[RS]$/), tracer: 0 });
  });
});

describe('damaged images', () => {
  let image: string;
  let bytes: Buffer;

  beforeEach(async () => {
    const t = await target(`
r, w = os.pipe()
write_all(w, pattern(70, 60000))
ready(); hold()
`);
    image = await dumpAndKill(t);
    bytes = readFileSync(image);
  });

  /** Restores `data` with a command that would leave a marker; returns the result. */
  async function restoreBytes(name: string, data: Buffer): Promise<CliResult & { started: boolean }> {
    const path = ws().path(`${name}.fdcr`);
    const marker = ws().path(`${name}.started`);
    writeFileSync(path, data);
    const result = await fdcr(['restore', path, '--', 'touch', marker]);
    return { ...result, started: existsSync(marker) };
  }

  it('starts the restore command from the intact image', async () => {
    const result = await restoreBytes('intact', bytes);
    expect({ code: result.code, started: result.started }).toEqual({ code: 0, started: true });
  });

  it.each([
    ['a truncated image', 'FDCR_E_IMAGE_TRUNCATED', (b: Buffer) => b.subarray(0, b.length - 100)],
    ['an image with a byte flipped in the middle', 'FDCR_E_IMAGE_CHECKSUM', (b: Buffer) => {
      const copy = Buffer.from(b);
      copy[copy.length >> 1]! ^= 0x40;
      return copy;
    }],
    ['an empty file', 'FDCR_E_IMAGE_EMPTY', () => Buffer.alloc(0)],
    ['a random file', 'FDCR_E_IMAGE_MAGIC', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256))],
  ])('refuses %s with %s and starts nothing', async (name, code, damage) => {
    const result = await restoreBytes(name.replace(/\W+/g, '-'), damage(bytes));

    expect(result.code).not.toBe(0);
    expect(ERROR_LINE.exec(result.stderr)?.[1]).toBe(code);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.started).toBe(false);
  });
});

describe('fdcr show', () => {
  async function dumpShown(): Promise<{ image: string; pid: number; r: number; w: number }> {
    const t = await target(`
r, w = os.pipe()
write_all(w, b'hello from the pipe, ' * 200)
report({'r': r, 'w': w})
ready(); hold()
`);
    const image = await dumpAndKill(t);
    return { image, pid: t.pid, ...readReport<{ r: number; w: number }>(ws()) };
  }

  it('prints the processes and descriptors of an image', async () => {
    const { image, pid, r, w } = await dumpShown();
    const { stdout } = await fdcrOk(['show', image]);

    expect(stdout).toMatch(new RegExp(`^${pid}\\s+\\d+\\s+\\S*python3 -c`, 'm'));
    expect(stdout).toMatch(new RegExp(`^${pid}\\s+${r}\\s+r\\s.*pipe:\\[\\d+\\] read end, 4200 bytes pending`, 'm'));
    expect(stdout).toMatch(new RegExp(`^${pid}\\s+${w}\\s+w\\s.*pipe:\\[\\d+\\] write end`, 'm'));
    expect(stdout).toContain('hello from the pipe');
  });

  it('prints JSON with data as a length and a short preview', async () => {
    const { image, pid, r, w } = await dumpShown();
    const view = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout);

    expect(view.processes.map((p: { pid: number }) => p.pid)).toEqual([pid]);
    expect(view.descriptors.map((d: { fd: number }) => d.fd)).toEqual(expect.arrayContaining([r, w]));
    expect(view.data).toHaveLength(1);
    expect(view.data[0].bytes).toBe(4200);
    expect(view.data[0].preview.startsWith('hello from the pipe, ')).toBe(true);
    expect(view.data[0].preview.length).toBeLessThan(64);
  });
});
