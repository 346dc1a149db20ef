import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  fdcr,
  fdcrOk,
  readReport,
  restoreAndVerify,
  script,
  startTarget,
  useWorkspace,
} from './support/scenario.js';

// Real-process round trips for socketpairs: a python target builds its pairs and queues, fdcr
// dumps it, and a fresh python process restored from the image checks them from the inside.
// Targets' 0-2 (/dev/null and a log file) belong to no plugin yet, hence --skip-unsupported.

/** Python helpers shared by targets and verifiers, on top of the harness prelude. */
const PY = `
import hashlib, random, signal, array
signal.alarm(60)
SO_PEEK_OFF = 42
def pattern(seed, n):
    return random.Random(seed).randbytes(n)
def digest(b):
    return hashlib.sha256(b).hexdigest()
def move(s, to):
    os.dup2(s.fileno(), to, inheritable=False)
    s.close()
    return socket.socket(fileno=to)
def at(fd):
    return socket.socket(fileno=fd)
def drain(s):
    s.setblocking(False)
    out = []
    while True:
        try:
            b = s.recv(1 << 20)
        except BlockingIOError:
            return b''.join(out), False
        if not b:
            return b''.join(out), True
        out.append(b)
def messages(s, stop_at_empty=False):
    s.setblocking(False)
    out = []
    while True:
        try:
            b = s.recv(1 << 20)
        except BlockingIOError:
            return out
        if stop_at_empty and not b:
            return out
        out.append(b)
def opt(s, name):
    return s.getsockopt(socket.SOL_SOCKET, name)
def sockets():
    # The sockets among our descriptors: what fdcr gave us, whatever else we inherited.
    import stat
    def is_socket(fd):
        try:
            return stat.S_ISSOCK(os.fstat(fd).st_mode)
        except OSError:
            return False
    return [fd for fd in sorted(int(n) for n in os.listdir('/proc/self/fd')) if is_socket(fd)]
def recv_exact(s, n):
    out = b''
    while len(out) < n:
        b = s.recv(n - len(out))
        if not b: break
        out += b
    return out
def wait_for(path):
    while not os.path.exists(path): time.sleep(0.02)
`;

function body(code: string): string {
  return `${PY}\n${code}`;
}

const ws = useWorkspace();

/** Dumps `pids` into a fresh image and returns its path. */
async function dump(pids: readonly number[], name = 'image.fdcr'): Promise<string> {
  const image = ws().path(name);
  await fdcrOk(['dump', ...pids.flatMap((p) => ['--pid', String(p)]), '-o', image, '--skip-unsupported']);
  return image;
}

describe('socketpair plugin', () => {
  it('restores stream data queued both ways with peek offset and buffer sizes', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a, b = move(a, 10), move(b, 11)
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 100000)
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 150000)
b.sendall(pattern(1, 5000))
a.sendall(b'to b, ' * 3)
a.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
assert a.recv(7, socket.MSG_PEEK) == pattern(1, 5000)[:7]
report({'sndbuf': opt(a, socket.SO_SNDBUF), 'rcvbuf': opt(b, socket.SO_RCVBUF)})
ready(); hold()`));
    const before = readReport<{ sndbuf: number; rcvbuf: number }>(ws());
    const image = await dump([target.pid]);
    target.kill();
    const got = await restoreAndVerify(ws(), image, body(`
a, b = at(10), at(11)
peek_off = opt(a, SO_PEEK_OFF)
peeked = a.recv(5, socket.MSG_PEEK)
data_a, eof_a = drain(a)
data_b, eof_b = drain(b)
a.send(b'ping')
report({'peekOff': peek_off, 'peeked': peeked.hex(), 'a': digest(data_a), 'aLen': len(data_a), 'eofA': eof_a,
        'b': data_b.decode(), 'eofB': eof_b, 'ping': b.recv(10).decode(), 'type': a.type,
        'sndbuf': opt(a, socket.SO_SNDBUF), 'rcvbuf': opt(b, socket.SO_RCVBUF)})`));
    const expected = await pythonValue(`digest(pattern(1, 5000))`);
    const peeked = await pythonValue(`pattern(1, 5000)[7:12].hex()`);
    expect(got).toEqual({
      peekOff: 7,
      peeked,
      a: expected,
      aLen: 5000,
      eofA: false,
      b: 'to b, to b, to b, ',
      eofB: false,
      ping: 'ping',
      type: 1,
      sndbuf: before.sndbuf,
      rcvbuf: before.rcvbuf,
    });
  });

  it('restores datagram boundaries exactly, in order, in both directions', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a, b = move(a, 10), move(b, 11)
for n in (1, 10, 100, 1000, 4000): b.send(pattern(n, n))
for m in (b'', b'seven!!', pattern(9, 100000)): a.send(m)
ready(); hold()`));
    const image = await dump([target.pid]);
    target.kill();
    const got = await restoreAndVerify(ws(), image, body(`
a, b = at(10), at(11)
to_a = messages(a)
to_b = messages(b)
report({'sizesA': [len(m) for m in to_a], 'okA': all(m == pattern(len(m), len(m)) for m in to_a),
        'sizesB': [len(m) for m in to_b], 'okB': to_b == [b'', b'seven!!', pattern(9, 100000)], 'type': a.type})`));
    expect(got).toEqual({
      sizesA: [1, 10, 100, 1000, 4000],
      okA: true,
      sizesB: [0, 7, 100000],
      okB: true,
      type: 2,
    });
  });

  it('restores a seqpacket pair whose sender shut down for writing: EOF after the messages, other way open', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
a, b = move(a, 10), move(b, 11)
for n in (5, 50, 500): b.send(pattern(n, n))
b.shutdown(socket.SHUT_WR)
a.send(b'hello')
ready(); hold()`));
    const image = await dump([target.pid]);
    target.kill();
    const got = await restoreAndVerify(ws(), image, body(`
a, b = at(10), at(11)
to_a = messages(a, stop_at_empty=True)
eof = a.recv(10)
try:
    b.send(b'x'); b_send = 'sent'
except OSError as e:
    b_send = errno.errorcode[e.errno]
a.send(b'again')
report({'sizes': [len(m) for m in to_a], 'ok': to_a == [pattern(n, n) for n in (5, 50, 500)],
        'eof': eof.hex(), 'bSend': b_send, 'toB': [m.decode() for m in messages(b)], 'type': a.type})`));
    expect(got).toEqual({ sizes: [5, 50, 500], ok: true, eof: '', bSend: 'EPIPE', toB: ['hello', 'again'], type: 5 });
  });

  it('restores the survivor of a pair whose other end was closed: its data, then EOF', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a = move(a, 10)
b.sendall(b'last words')
b.close()
c, d = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
c = move(c, 12)
d.send(b'one'); d.send(b'two')
d.close()
ready(); hold()`));
    const image = await dump([target.pid]);
    target.kill();
    const show = await fdcrOk(['show', image]);
    expect(show.stdout).toMatch(/peer closed/);
    const got = await restoreAndVerify(ws(), image, body(`
a, c = at(10), at(12)
data, eof = drain(a)
report({'data': data.decode(), 'eof': eof, 'dgram': [m.decode() for m in messages(c)], 'sockets': sockets()})`));
    expect(got).toEqual({ data: 'last words', eof: true, dgram: ['one', 'two'], sockets: [10, 12] });
  });

  it('restores 1 MiB queued on a stream socket', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a, b = move(a, 10), move(b, 11)
a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 2 << 20)
a.setblocking(False)
a.sendall(pattern(7, 1 << 20))
report({'sndbuf': opt(a, socket.SO_SNDBUF)})
ready(); hold()`));
    const { sndbuf } = readReport<{ sndbuf: number }>(ws());
    const image = await dump([target.pid]);
    target.kill();
    const got = await restoreAndVerify(ws(), image, body(`
a, b = at(10), at(11)
data, eof = drain(b)
report({'len': len(data), 'ok': data == pattern(7, 1 << 20), 'sndbuf': opt(a, socket.SO_SNDBUF)})`));
    expect(got).toEqual({ len: 1 << 20, ok: true, sndbuf });
  });

  it('restores a pair split between two processes, each end in its own process', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a, b = move(a, 10), move(b, 11)
child = os.fork()
if child == 0:
    a.close()
    b.sendall(b'from child')
    while True: time.sleep(3600)
b.close()
a.sendall(b'from parent')
time.sleep(0.2)
report({'child': child})
ready(); hold()`));
    const { child } = readReport<{ child: number }>(ws());
    const partial = await fdcr(['dump', '--pid', String(target.pid), '-o', ws().path('partial.fdcr'), '--skip-unsupported']);
    expect(partial.code).not.toBe(0);
    expect(partial.stderr).toMatch(/FDCR_E_DUMP_UNSUPPORTED_STATE/);
    expect(partial.stderr).toMatch(new RegExp(`pid ${target.pid} fd 10 -> socket:\\[\\d+\\].*peer socket:\\[\\d+\\]`));
    expect(existsSync(ws().path('partial.fdcr'))).toBe(false);

    const image = await dump([target.pid, child]);
    const show = await fdcrOk(['show', image]);
    expect(show.stdout.match(/socketpair stream/g)?.length).toBe(2);
    target.kill();
    process.kill(child, 'SIGKILL');
    const parentOut = ws().path('parent.json');
    const childOut = ws().path('child.json');
    const parentBody = body(`
a = at(10)
a.setblocking(True)
got = a.recv(100)
a.sendall(b'ping')
result = {'got': got.decode(), 'sockets': sockets()}
with open(${JSON.stringify(parentOut)}, 'w') as f: json.dump(result, f)`);
    const childBody = body(`
b = at(11)
b.setblocking(True)
got = recv_exact(b, len('from parent'))
ping = recv_exact(b, 4)
result = {'got': got.decode(), 'ping': ping.decode(), 'sockets': sockets()}
with open(${JSON.stringify(childOut)}, 'w') as f: json.dump(result, f)`);
    writeFileSync(ws().path('parent.py'), script(parentBody));
    writeFileSync(ws().path('child.py'), script(childBody));
    await fdcrOk([
      'restore',
      image,
      '--exec',
      `${target.pid}=python3 ${ws().path('parent.py')}`,
      '--exec',
      `${child}=python3 ${ws().path('child.py')}`,
    ]);
    expect(JSON.parse(readFileSync(parentOut, 'utf8'))).toEqual({ got: 'from child', sockets: [10] });
    expect(JSON.parse(readFileSync(childOut, 'utf8'))).toEqual({ got: 'from parent', ping: 'ping', sockets: [11] });
  });

  it('records an end shared by fork() as one entity held by both processes', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a, b = move(a, 10), move(b, 11)
b.send(b'for whoever reads first')
child = os.fork()
if child == 0:
    while True: time.sleep(3600)
report({'child': child})
ready(); hold()`));
    const { child } = readReport<{ child: number }>(ws());
    const image = await dump([target.pid, child]);
    process.kill(child, 'SIGKILL');
    const view = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout) as {
      entities: Array<{ id: number; plugin: string }>;
      descriptors: Array<{ pid: number; fd: number; entity: number }>;
    };
    const pairs = view.entities.filter((e) => e.plugin === 'socketpair');
    expect(pairs).toHaveLength(2);
    const holders = (fd: number): number[] =>
      view.descriptors.filter((d) => d.fd === fd && pairs.some((e) => e.id === d.entity)).map((d) => d.pid);
    expect(holders(10).sort()).toEqual([target.pid, child].sort());
    expect(new Set(view.descriptors.filter((d) => d.fd === 10).map((d) => d.entity)).size).toBe(1);
  });

  it('leaves a running target its queues and SO_PEEK_OFF untouched after a dump', async () => {
    const go = ws().path('go');
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
c, d = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
b.sendall(pattern(3, 3000))
a.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
a.recv(3, socket.MSG_PEEK)
for n in (1, 2, 3): d.send(pattern(n, n))
c.setsockopt(socket.SOL_SOCKET, SO_PEEK_OFF, 0)
c.recv(10, socket.MSG_PEEK)
ready()
wait_for(${JSON.stringify(go)})
before = [opt(a, SO_PEEK_OFF), opt(b, SO_PEEK_OFF), opt(c, SO_PEEK_OFF), opt(d, SO_PEEK_OFF)]
peek_a = a.recv(4, socket.MSG_PEEK)
data, _ = drain(a)
report({'peekOffs': before, 'peekA': peek_a.hex(), 'ok': data == pattern(3, 3000),
        'dgram': [len(m) for m in messages(c)]})
hold()`));
    await dump([target.pid]);
    writeFileSync(go, '1');
    const deadline = Date.now() + 10_000;
    while (!existsSync(ws().path('target.out')) && Date.now() < deadline) await sleep(20);
    const peekA = await pythonValue(`pattern(3, 3000)[3:7].hex()`);
    expect(readReport(ws())).toEqual({ peekOffs: [3, -1, 1, -1], peekA, ok: true, dgram: [1, 2, 3] });
  });

  it('restores a pipe with data and a file at an offset passed in flight over a stream pair', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a, b = move(a, 10), move(b, 11)
r, w = os.pipe()
os.dup2(w, 12, inheritable=False); os.close(w)
os.write(12, b'through the pipe')
path = os.environ['FDCR_READY'] + '.data'
with open(path, 'wb') as f: f.write(b'0123456789')
f = os.open(path, os.O_RDONLY)
os.lseek(f, 4, os.SEEK_SET)
a.sendall(b'header;')
a.sendmsg([b'with fds'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [r, f]))])
os.close(r); os.close(f)
ready(); hold()`));
    const image = await dump([target.pid]);
    target.kill();
    const show = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout) as {
      entities: Array<{ id: number; plugin: string }>;
      descriptors: Array<{ entity: number }>;
    };
    const unheld = show.entities.filter((e) => !show.descriptors.some((d) => d.entity === e.id));
    expect(unheld.map((e) => e.plugin).sort()).toEqual(['file', 'pipe']);
    const got = await restoreAndVerify(ws(), image, body(`
b = at(11)
head = recv_exact(b, len('header;'))
msg, anc, flags, _ = b.recvmsg(100, socket.CMSG_SPACE(4 * 4))
passed = list(array.array('i', anc[0][2])) if anc else []
r, f = passed
os.write(12, b', and more')
os.set_blocking(r, False)
report({'head': head.decode(), 'msg': msg.decode(), 'passed': len(passed), 'pipe': os.read(r, 100).decode(),
        'offset': os.lseek(f, 0, os.SEEK_CUR), 'rest': os.read(f, 100).decode(), 'sockets': sockets()})`));
    expect(got).toEqual({
      head: 'header;',
      msg: 'with fds',
      passed: 2,
      pipe: 'through the pipe, and more',
      offset: 4,
      rest: '456789',
      sockets: [10, 11],
    });
  });

  it('gives a passed fd that the sender also holds the same open file description after restore', async () => {
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
a, b = move(a, 10), move(b, 11)
path = os.environ['FDCR_READY'] + '.data'
with open(path, 'wb') as f: f.write(b'abcdefghij')
f = os.open(path, os.O_RDONLY)
os.dup2(f, 13, inheritable=False); os.close(f)
os.lseek(13, 3, os.SEEK_SET)
a.send(b'before')
a.sendmsg([b'one fd'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [13]))])
a.sendmsg([b'same fd twice'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [13, 13]))])
ready(); hold()`));
    const image = await dump([target.pid]);
    target.kill();
    const show = JSON.parse((await fdcrOk(['show', image, '--json'])).stdout) as {
      entities: Array<{ id: number }>;
      descriptors: Array<{ fd: number; entity: number }>;
    };
    // The passed file is the one fd 13 holds: no entity of its own, only fd 13's.
    expect(show.entities.filter((e) => !show.descriptors.some((d) => d.entity === e.id))).toEqual([]);
    const got = await restoreAndVerify(ws(), image, body(`
b = at(11)
b.setblocking(False)
out = []
fds = []
for _ in range(3):
    msg, anc, flags, _ = b.recvmsg(100, socket.CMSG_SPACE(4 * 4))
    passed = list(array.array('i', anc[0][2])) if anc else []
    fds += passed
    out.append([msg.decode(), len(passed)])
os.lseek(fds[0], 8, os.SEEK_SET)
report({'messages': out, 'offsets': [os.lseek(fd, 0, os.SEEK_CUR) for fd in [13] + fds]})`));
    expect(got).toEqual({
      messages: [['before', 0], ['one fd', 1], ['same fd twice', 2]],
      offsets: [8, 8, 8, 8],
    });
  });

  it('refuses a passed fd that no plugin handles, naming the socket, and leaves the queue intact', async () => {
    const go = ws().path('go');
    const target = await startTarget(ws(), body(`
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
a, b = move(a, 10), move(b, 11)
e = os.eventfd(5)
a.sendmsg([b'with fd'], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array('i', [e]))])
os.close(e)
report({'ino': os.fstat(11).st_ino})
ready()
wait_for(${JSON.stringify(go)})
msg, anc, flags, _ = b.recvmsg(100, socket.CMSG_SPACE(4 * 4))
passed = array.array('i', anc[0][2]) if anc else []
report({'msg': msg.decode(), 'passed': len(passed), 'count': os.eventfd_read(passed[0]) if passed else 0})
hold()`));
    const { ino } = readReport<{ ino: number }>(ws());
    const result = await fdcr(['dump', '--pid', String(target.pid), '-o', ws().path('image.fdcr'), '--skip-unsupported']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FDCR_E_DUMP_UNSUPPORTED_FD');
    expect(result.stderr).toContain(`in flight in socket:[${ino}] (pid ${target.pid} fd 11) -> anon_inode:[eventfd]`);
    expect(existsSync(ws().path('image.fdcr'))).toBe(false);
    writeFileSync(go, '1');
    const deadline = Date.now() + 10_000;
    while (readReport<{ msg?: string }>(ws()).msg === undefined && Date.now() < deadline) await sleep(20);
    expect(readReport(ws())).toEqual({ msg: 'with fd', passed: 1, count: 5 });
  });

  it('does not claim a bound listening unix socket: the core reports it as unsupported by inode', async () => {
    const target = await startTarget(ws(), body(`
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(os.environ['FDCR_READY'] + '.sock')
s.listen()
s = move(s, 10)
report({'ino': os.fstat(10).st_ino})
ready(); hold()`));
    const { ino } = readReport<{ ino: number }>(ws());
    const result = await fdcr(['dump', '--pid', String(target.pid), '-o', ws().path('image.fdcr')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('FDCR_E_DUMP_UNSUPPORTED_FD');
    expect(result.stderr).toContain(`pid ${target.pid} fd 10 -> socket:[${ino}]`);
  });
});

/** Evaluates a python expression with the helpers above and returns its JSON value. */
async function pythonValue(expression: string): Promise<unknown> {
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync('python3', ['-c', script(body(`print(json.dumps(${expression}))`))], { encoding: 'utf8' });
  return JSON.parse(out) as unknown;
}
