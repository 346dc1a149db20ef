import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  fdcr,
  fdcrOk,
  readReport,
  restoreAndVerify,
  script,
  startTarget,
  useWorkspace,
  workspace,
} from './support/scenario.js';

// Real-process round trips for files reopened by path: a python target opens its files,
// fdcr dumps it, and a fresh python process restored from the image checks them from inside.

/** Python helpers shared by targets and verifiers, on top of the harness prelude. */
const PY = `
import signal
signal.alarm(60)
MEANINGFUL = (os.O_ACCMODE | os.O_APPEND | os.O_NONBLOCK | os.O_NOATIME | os.O_DIRECT | os.O_SYNC
    | os.O_DSYNC | os.O_ASYNC | os.O_PATH)
def getfl(fd):
    return fcntl.fcntl(fd, fcntl.F_GETFL) & MEANINGFUL
def pos(fd):
    return os.lseek(fd, 0, os.SEEK_CUR)
def ident(fd):
    st = os.fstat(fd)
    return [st.st_ino, st.st_dev]
def link(fd):
    return os.readlink(b'/proc/self/fd/%d' % fd).hex()
`;

const py = (body: string): string => `${PY}\n${body}`;

const ws = useWorkspace();
let image: string;

beforeEach(() => {
  image = ws().path('image.fdcr');
});

/** Extra clean-ups registered by a test. */
const cleanups: Array<() => void> = [];

afterEach(() => {
  for (const undo of cleanups.splice(0)) undo();
});

/** Starts a target, dumps it and kills it; returns what it reported. */
async function dumpTarget<T = Record<string, unknown>>(body: string, dumpArgs: string[] = []): Promise<T> {
  const target = await startTarget(ws(), py(body));
  await fdcrOk(['dump', '--pid', String(target.pid), '-o', image, ...dumpArgs]);
  target.kill();
  return readReport<T>(ws());
}

describe('file plugin: regular files', () => {
  it('restores offsets, access modes and status flags', async () => {
    writeFileSync(ws().path('data'), '0123456789abcdefghij');
    const before = await dumpTarget<Record<string, unknown>>(`
p = ${JSON.stringify(ws().path('data'))}
a = os.open(p, os.O_RDONLY); os.lseek(a, 5, 0)
b = os.open(p, os.O_RDWR | os.O_NONBLOCK | os.O_NOATIME); os.lseek(b, 7, 0)
c = os.open(p, os.O_WRONLY | os.O_SYNC); os.lseek(c, 11, 0)
d = os.open(p, os.O_RDONLY | os.O_DIRECT | os.O_DSYNC)
fcntl.fcntl(d, fcntl.F_SETFL, fcntl.fcntl(d, fcntl.F_GETFL) | os.O_ASYNC)
report({'fds': [a, b, c, d], 'fl': [getfl(x) for x in (a, b, c, d)], 'ident': ident(a)})
ready(); hold()`);
    const fdList = before.fds as number[];
    const after = await restoreAndVerify(ws(), image, py(`
fds_ = ${JSON.stringify(fdList)}
report({'pos': [pos(x) for x in fds_], 'fl': [getfl(x) for x in fds_], 'ident': ident(fds_[0]),
        'read': os.read(fds_[0], 3).decode()})`));
    expect(after.pos).toEqual([5, 7, 11, 0]);
    expect(after.fl).toEqual(before.fl);
    expect(after.ident).toEqual(before.ident);
    expect(after.read).toBe('567');
    const shown = await fdcrOk(['show', image]);
    expect(shown.stdout).toContain(`file "${ws().path('data')}" rw,nonblock,noatime at offset 7, size 20`);
  });

  it('keeps dup()ed descriptors on one offset and independent opens apart', async () => {
    writeFileSync(ws().path('data'), 'x'.repeat(100));
    await dumpTarget(`
p = ${JSON.stringify(ws().path('data'))}
a = os.open(p, os.O_RDWR); b = os.dup(a); c = os.open(p, os.O_RDWR)
os.lseek(a, 10, 0); os.lseek(c, 3, 0)
report({'a': a, 'b': b, 'c': c})
ready(); hold()`);
    const { a, b, c } = readReport<Record<string, number>>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
a, b, c = ${a}, ${b}, ${c}
start = [pos(a), pos(b), pos(c)]
os.lseek(a, 20, 0)
report({'start': start, 'moved': [pos(a), pos(b), pos(c)]})`));
    expect(after).toEqual({ start: [10, 10, 3], moved: [20, 20, 3] });
  });

  it('appends at the end of a log that grew after the checkpoint', async () => {
    const log = ws().path('app.log');
    await dumpTarget(`
fd = os.open(${JSON.stringify(log)}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, b'one\\n')
report({'fd': fd})
ready(); hold()`);
    appendFileSync(log, 'extra\n');
    const { fd } = readReport<{ fd: number }>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
os.write(${fd}, b'two\\n')
report({'fl': getfl(${fd})})`));
    expect(after.fl).toBe(0o1 | 0o2000);
    expect(readFileSync(log, 'utf8')).toBe('one\nextra\ntwo\n');
  });

  it('shares one offset between a forked parent and child restored as two processes', async () => {
    writeFileSync(ws().path('data'), 'y'.repeat(200));
    const target = await startTarget(ws(), py(`
fd = os.open(${JSON.stringify(ws().path('data'))}, os.O_RDONLY)
os.lseek(fd, 5, 0)
child = os.fork()
if child == 0:
    hold()
report({'fd': fd, 'child': child})
ready(); hold()`));
    await fdcrOk(['dump', '--tree', String(target.pid), '-o', image]);
    const { fd, child } = readReport<{ fd: number; child: number }>(ws());
    target.kill();
    process.kill(child, 'SIGKILL');
    const flag = ws().path('seeked');
    const seeker = ws().path('seeker.py');
    const watcher = ws().path('watcher.py');
    writeFileSync(seeker, script(py(`
before = pos(${fd}); os.lseek(${fd}, 123, 0)
open(${JSON.stringify(flag)}, 'w').close()
with open(${JSON.stringify(ws().path('seeker.out'))}, 'w') as f: json.dump({'before': before}, f)`)));
    writeFileSync(watcher, script(py(`
while not os.path.exists(${JSON.stringify(flag)}): time.sleep(0.01)
with open(${JSON.stringify(ws().path('watcher.out'))}, 'w') as f: json.dump({'seen': pos(${fd})}, f)`)));
    await fdcrOk(['restore', image, '--exec', `${target.pid}=python3 ${seeker}`, '--exec', `${child}=python3 ${watcher}`]);
    expect(readReport(ws(), 'seeker')).toEqual({ before: 5 });
    expect(readReport(ws(), 'watcher')).toEqual({ seen: 123 });
  });
});

describe('file plugin: deleted files', () => {
  const target = (dir: string): string => `
p = ${JSON.stringify(join(dir, 'scratch'))}
a = os.open(p, os.O_RDWR | os.O_CREAT, 0o640)
os.pwrite(a, b'head', 0); os.pwrite(a, b'tail', (4 << 20) + 1); os.ftruncate(a, 8 << 20)
b = os.open(p, os.O_RDONLY); d = os.dup(a)
os.unlink(p)
os.lseek(a, 3, 0); os.lseek(b, 1, 0)
report({'a': a, 'b': b, 'd': d})
ready(); hold()`;

  it('restores content, holes, size, mode, offsets and sharing of an unlinked file', async () => {
    await dumpTarget(target(ws().dir));
    const { a, b, d } = readReport<Record<string, number>>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
a, b, d = ${a}, ${b}, ${d}
st = os.fstat(a)
start = [pos(a), pos(b), pos(d)]
os.lseek(a, 50, 0)
os.pwrite(a, b'new', 10)
report({'size': st.st_size, 'mode': st.st_mode & 0o7777, 'nlink': st.st_nlink, 'blocks': st.st_blocks,
        'same': ident(a) == ident(b), 'start': start, 'moved': [pos(a), pos(b), pos(d)],
        'head': os.pread(b, 4, 0).decode(), 'tail': os.pread(b, 4, (4 << 20) + 1).decode(),
        'seen': os.pread(b, 3, 10).decode(), 'fl': [getfl(a), getfl(b)], 'dir': link(a)})`));
    expect(after).toMatchObject({ size: 8 << 20, mode: 0o640, nlink: 0, same: true, head: 'head', tail: 'tail', seen: 'new' });
    expect(after).toMatchObject({ start: [3, 1, 3], moved: [50, 1, 50], fl: [0o2, 0o0] });
    // Two 4 KiB blocks of data: the 8 MiB of holes stayed holes.
    expect(after.blocks as number).toBeLessThan(256);
    expect(Buffer.from(after.dir as string, 'hex').toString()).toMatch(new RegExp(`^${ws().dir}/#\\d+ \\(deleted\\)$`));
  });

  it('refuses to save a deleted file past --max-deleted-size', async () => {
    const t = await startTarget(ws(), py(target(ws().dir)));
    const result = await fdcr(['dump', '--pid', String(t.pid), '-o', image, '--max-deleted-size', '4K']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FDCR_E_FILE_TOO_LARGE');
    expect(result.stderr).toContain(`${ws().dir}/scratch`);
    expect(existsSync(image)).toBe(false);
  });
});

describe('file plugin: directories, O_PATH and devices', () => {
  it('restores a directory fd at its position in the listing', async () => {
    const dir = ws().path('d');
    mkdirSync(dir);
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `entry-${i}`), '');
    const DENTS = `
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
NR = 217 if os.uname().machine == 'x86_64' else 61
def dents(fd, size):
    buf = ctypes.create_string_buffer(size)
    n = libc.syscall(NR, fd, buf, size)
    names, at = [], 0
    while at < n:
        reclen = struct.unpack_from('H', buf.raw, at + 16)[0]
        names.append(buf.raw[at + 19:at + reclen].split(b'\\0')[0].decode())
        at += reclen
    return names
def rest(fd):
    out = []
    while True:
        got = dents(fd, 4096)
        if not got: return out
        out += got`;
    await dumpTarget(`${DENTS}
fd = os.open(${JSON.stringify(dir)}, os.O_RDONLY | os.O_DIRECTORY)
first = dents(fd, 200)
probe = os.open(${JSON.stringify(dir)}, os.O_RDONLY | os.O_DIRECTORY)
os.lseek(probe, pos(fd), 0)
report({'fd': fd, 'pos': pos(fd), 'first': len(first), 'rest': rest(probe)})
os.close(probe)
ready(); hold()`);
    const before = readReport<{ fd: number; pos: number; first: number; rest: string[] }>(ws());
    expect(before.pos).not.toBe(0);
    const after = await restoreAndVerify(ws(), image, py(`${DENTS}
report({'pos': pos(${before.fd}), 'rest': rest(${before.fd}), 'dir': os.path.isdir('/proc/self/fd/${before.fd}')})`));
    expect(after).toEqual({ pos: before.pos, rest: before.rest, dir: true });
  });

  it('restores O_PATH descriptors, including one on a symbolic link itself', async () => {
    writeFileSync(ws().path('data'), 'z');
    symlinkSync('data', ws().path('lnk'));
    await dumpTarget(`
a = os.open(${JSON.stringify(ws().path('data'))}, os.O_PATH)
b = os.open(${JSON.stringify(ws().path('lnk'))}, os.O_PATH | os.O_NOFOLLOW)
report({'a': a, 'b': b, 'ident': [ident(a), ident(b)]})
ready(); hold()`);
    const before = readReport<{ a: number; b: number; ident: unknown }>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
import stat
a, b = ${before.a}, ${before.b}
report({'fl': [getfl(a), getfl(b)], 'ident': [ident(a), ident(b)], 'islink': stat.S_ISLNK(os.fstat(b).st_mode)})`));
    expect(after).toEqual({ fl: [linuxOPath, linuxOPath], ident: before.ident, islink: true });
  });

  it('restores /dev/null on 0, 1 and 2 and other memory devices by device number', async () => {
    await dumpTarget(`
n = os.open('/dev/null', os.O_WRONLY); os.dup2(n, 1); os.dup2(n, 2); os.close(n)
z = os.open('/dev/zero', os.O_RDONLY); u = os.open('/dev/urandom', os.O_RDONLY | os.O_NONBLOCK)
report({'z': z, 'u': u})
ready(); hold()`);
    const { z, u } = readReport<{ z: number; u: number }>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
rdev = lambda fd: [os.major(os.fstat(fd).st_rdev), os.minor(os.fstat(fd).st_rdev)]
report({'dev': [rdev(x) for x in (0, 1, 2, ${z}, ${u})], 'fl': [getfl(x) for x in (0, 1, 2, ${u})],
        'zero': os.read(${z}, 4).hex(), 'random': len(os.read(${u}, 8))})`));
    expect(after).toEqual({ dev: [[1, 3], [1, 3], [1, 3], [1, 5], [1, 9]], fl: [0, 1, 1, 0o4000], zero: '00000000', random: 8 });
  });

  it('leaves sockets and other anonymous files to other plugins', async () => {
    const t = await startTarget(ws(), py(`
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
e = os.eventfd(0)
ready(); hold()`));
    const result = await fdcr(['dump', '--pid', String(t.pid), '-o', image]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('FDCR_E_DUMP_UNSUPPORTED_FD');
    expect(result.stderr).toContain('2 descriptor(s)');
    expect(result.stderr).toMatch(/socket:\[\d+\].*anon_inode:\[eventfd\]/);
  });
});

const linuxOPath = 0o10000000;

describe('file plugin: paths', () => {
  it('restores files with awkward names byte for byte', async () => {
    const names = ['with space', 'new\nline', `quo"te's`, 'ends (deleted)'].map((n) => Buffer.from(n).toString('hex'));
    names.push('ff2dfe'); // invalid UTF-8
    await dumpTarget(`
fds_ = []
for h in ${JSON.stringify(names)}:
    p = os.fsencode(${JSON.stringify(ws().dir)}) + b'/' + bytes.fromhex(h)
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
    os.write(fd, bytes.fromhex(h)); os.lseek(fd, 1, 0)
    fds_.append(fd)
report({'fds': fds_, 'links': [link(x) for x in fds_]})
ready(); hold()`);
    const before = readReport<{ fds: number[]; links: string[] }>(ws());
    const after = await restoreAndVerify(ws(), image, py(`
fds_ = ${JSON.stringify(before.fds)}
report({'links': [link(x) for x in fds_], 'content': [os.pread(x, 100, 0).hex() for x in fds_], 'pos': [pos(x) for x in fds_]})`));
    expect(after.links).toEqual(before.links);
    expect(after.content).toEqual(names);
    expect(after.pos).toEqual(names.map(() => 1));
  });

  it('refuses a file that changed since the checkpoint and starts no process', async () => {
    writeFileSync(ws().path('data'), 'x'.repeat(100));
    const { fd } = await dumpTarget<{ fd: number }>(`
fd = os.open(${JSON.stringify(ws().path('data'))}, os.O_RDONLY); os.lseek(fd, 50, 0)
report({'fd': fd})
ready(); hold()`);
    truncateSync(ws().path('data'), 10);
    const marker = ws().path('started');
    const run = (extra: string[]): ReturnType<typeof fdcr> =>
      fdcr(['restore', image, ...extra, '--', 'python3', '-c', `open(${JSON.stringify(marker)}, 'w').close()`]);
    const refused = await run([]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('FDCR_E_FILE_CHANGED');
    expect(refused.stderr).toContain(`"${ws().path('data')}"`);
    expect(refused.stderr).toContain('shrank from 100 to 10 bytes');
    expect(existsSync(marker)).toBe(false);

    writeFileSync(ws().path('other'), 'x'.repeat(100));
    renameSync(ws().path('other'), ws().path('data'));
    const replaced = await run([]);
    expect(replaced.stderr).toMatch(/replaced \(inode \d+ on device \d+, now inode \d+/);
    expect(existsSync(marker)).toBe(false);

    const accepted = await restoreAndVerify(ws(), image, py(`report({'pos': pos(${fd})})`), ['--allow-changed']);
    expect(accepted).toEqual({ pos: 50 });
  });

  it('remaps paths under --root and refuses links that lead out of it', async () => {
    const data = ws().path('app/data.txt');
    mkdirSync(dirname(data));
    writeFileSync(data, 'original');
    const { fd } = await dumpTarget<{ fd: number }>(`
fd = os.open(${JSON.stringify(data)}, os.O_RDONLY); os.lseek(fd, 4, 0)
report({'fd': fd})
ready(); hold()`);
    const rootWs = workspace();
    cleanups.push(() => rootWs.cleanup());
    const root = rootWs.dir;
    const copy = join(root, ws().dir);
    mkdirSync(dirname(copy), { recursive: true });
    execFileSync('cp', ['-a', ws().dir, dirname(copy)]);
    // Same size and timestamps, other bytes: the restored process must read the copy.
    writeFileSync(join(copy, 'app/data.txt'), 'REMAPPED');
    execFileSync('touch', ['-r', data, join(copy, 'app/data.txt')]);
    rmSync(data);
    const after = await restoreAndVerify(ws(), image, py(`report({'rest': os.read(${fd}, 100).decode(), 'link': link(${fd})})`), ['--root', root]);
    expect(after.rest).toBe('PPED');
    expect(Buffer.from(after.link as string, 'hex').toString()).toBe(join(copy, 'app/data.txt'));

    rmSync(join(copy, 'app/data.txt'));
    symlinkSync(join(copy, 'app/target.log'), join(copy, 'app/data.txt'));
    const escaped = await fdcr(['restore', image, '--root', root, '--', 'true']);
    expect(escaped.code).not.toBe(0);
    expect(escaped.stderr).toContain('FDCR_E_FILE_OUTSIDE_ROOT');
    expect(escaped.stderr).toContain(`"${data}"`);
  });
});
