import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fdcrOk, readReport, startTarget, useWorkspace } from './support/scenario.js';

// fdcr inspect on live socketpairs: the peer search must name the process holding the other
// end (named or not), the queues must be counted both ways, and the target must be left as
// it was, which it checks from the inside afterwards.

const ws = useWorkspace();

/**
 * A parent holding end 10 of a stream pair with 7 bytes to read, and a child holding end 11
 * with 150 bytes to read; on the go file each reads its queue and reports it.
 */
const SPLIT_PAIR = `
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
os.dup2(a.fileno(), 10); os.dup2(b.fileno(), 11); a.close(); b.close()
a, b = socket.socket(fileno=10), socket.socket(fileno=11)
a.sendall(b'x' * 100); a.sendall(b'y' * 50); b.sendall(b'to a...')
go = os.environ['FDCR_READY'] + '.go'
child = os.fork()
if child == 0:
    a.close()
    while not os.path.exists(go): time.sleep(0.02)
    with open(os.environ['FDCR_TEST_OUT'] + '.child', 'w') as f:
        json.dump({'got': b.recv(1000).decode()}, f)
    while True: time.sleep(3600)
b.close()
report({'child': child, 'ino': os.fstat(10).st_ino})
ready()
while not os.path.exists(go): time.sleep(0.02)
report({'got': a.recv(1000).decode()})
hold()
`;

interface JsonFd {
  fd: number;
  kind: string | null;
  peerInode: number | null;
  pendingIn: number | null;
  pendingOut: number | null;
  peers: { pid: number; fd: number; comm: string; access: string }[];
  details: Record<string, unknown>;
}

async function inspectJson(pid: number): Promise<JsonFd[]> {
  const doc = JSON.parse((await fdcrOk(['inspect', String(pid), '--json'])).stdout);
  return doc.processes[0].fds as JsonFd[];
}

describe('fdcr inspect on socketpairs', () => {
  it('names the unnamed process holding the other end, with bytes pending both ways', async () => {
    const target = await startTarget(ws(), SPLIT_PAIR);
    const { child } = readReport<{ child: number }>(ws());
    const end = (await inspectJson(target.pid)).find((fd) => fd.fd === 10);
    expect(end).toMatchObject({ kind: 'socketpair', pendingIn: 7, pendingOut: 150, details: { type: 'stream' } });
    expect(end?.peers).toEqual([{ pid: child, fd: 11, comm: 'python3', access: 'rw' }]);
    const other = (await inspectJson(child)).find((fd) => fd.fd === 11);
    expect(other).toMatchObject({
      peerInode: readReport<{ ino: number }>(ws()).ino,
      pendingIn: 150,
      pendingOut: 7,
    });
    expect(other?.peers).toEqual([{ pid: target.pid, fd: 10, comm: 'python3', access: 'rw' }]);

    const { stdout } = await fdcrOk(['inspect', String(target.pid)]);
    expect(stdout).toMatch(/^10 +socketpair +rw .* 7\/150 +socket:\[\d+\]$/m);
    expect(stdout).toMatch(new RegExp(`fd 10 socket:\\[\\d+\\]: ${child} python3 fd 11 reads\\+writes`));
  });

  it('draws the pair as one edge between the two processes, labelled with what each end has to read', async () => {
    const target = await startTarget(ws(), SPLIT_PAIR);
    const { child } = readReport<{ child: number }>(ws());
    const { stdout: dot } = await fdcrOk(['inspect', String(target.pid), '--graph']);
    const edges = dot.split('\n').filter((line) => line.includes('label="socketpair'));
    const file = new RegExp(`"p${target.pid}:10" -> "(f\\d+)" \\[style=dotted`).exec(dot)?.[1];
    expect(edges).toEqual([
      `  "${file}" -> "x${child}:11" [penwidth=2, color="#1f6feb", dir=both, label="socketpair\\n7 B for ${target.pid} fd 10\\n150 B for ${child} fd 11"];`,
    ]);
    expect(dot).toContain(`label="${child} python3 (not named)"; style=dashed;`);
  });

  it('leaves both ends and their queues as they were', async () => {
    const target = await startTarget(ws(), SPLIT_PAIR);
    const { child } = readReport<{ child: number }>(ws());
    for (const args of [['--json'], ['--graph'], ['--verbose'], ['--tree']]) {
      await fdcrOk(['inspect', String(target.pid), ...args]);
    }
    writeFileSync(ws().path('target.ready.go'), '1');
    const deadline = Date.now() + 10_000;
    let parent: { got?: string } = {};
    let inChild: { got?: string } = {};
    while (Date.now() < deadline && (parent.got === undefined || inChild.got === undefined)) {
      await sleep(20);
      parent = readReport<{ got?: string }>(ws());
      try {
        inChild = JSON.parse(readFileSync(ws().path('target.out.child'), 'utf8'));
      } catch {
        // Not written yet.
      }
    }
    expect(parent).toEqual({ got: 'to a...' });
    expect(inChild).toEqual({ got: 'x'.repeat(100) + 'y'.repeat(50) });
    expect(child).toBeGreaterThan(0);
  });
});
