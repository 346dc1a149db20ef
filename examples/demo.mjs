// Live demo: checkpoint a two-process pipeline with data in flight, kill it, restore it,
// and show that not a byte was lost. Run with `pnpm demo` after `pnpm install`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { linux } from '@fdcr/core';

const here = import.meta.dirname;
const cli = join(here, '../packages/cli/dist/bin.js');
const dir = mkdtempSync(join(tmpdir(), 'fdcr-demo-'));
const image = join(dir, 'pipeline.fdcr');
const log = join(dir, 'pipeline.log');

const step = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);
const children = [];
function fdcr(...args) {
  console.log(`$ fdcr ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`fdcr ${args[0]} failed (exit ${result.status})`);
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  }
}

step('1. start a pipeline: producer writes lines 0..9999 into a pipe the consumer does not read yet');
// Close-on-exec, so that each child gets only the end it is handed; a pipe end inherited by
// accident would be checkpointed and restored just as faithfully, and the consumer would
// then wait forever for an EOF that its own stray write end prevents.
const [readEnd, writeEnd] = linux.pipe2(linux.O_CLOEXEC);
// Likewise for whatever this demo inherited from its own parent: keep it out of the pipeline.
for (const name of readdirSync('/proc/self/fd')) {
  const fd = Number(name);
  if (fd > 2 && fd !== readEnd && fd !== writeEnd && linux.isOpen(fd)) linux.setCloexec(fd, true);
}
const logFd = openSync(log, 'a');
const python = (name, args, stdio) =>
  spawn('python3', [join(here, 'demo', name), ...args], { stdio });
const producer = python('producer.py', ['0', '10000', '--hold'], ['ignore', writeEnd, logFd]);
const consumer = python('consumer.py', ['--hold'], [readEnd, logFd, logFd]);
children.push(producer, consumer);
for (const fd of [readEnd, writeEnd, logFd]) closeSync(fd);
await sleep(500);
console.log(`producer pid ${producer.pid}, consumer pid ${consumer.pid}`);

step('2. checkpoint both processes (they keep running, untouched)');
fdcr('dump', '--pid', String(producer.pid), '--pid', String(consumer.pid), '-o', image);
fdcr('show', image);

step('3. kill the pipeline: the 48,890 bytes in flight exist only in the image now');
producer.kill('SIGKILL');
consumer.kill('SIGKILL');
await sleep(100);

step('4. restore: the producer resumes with lines 10000..19999, the consumer reads to EOF');
fdcr(
  'restore', image,
  '--exec', `${producer.pid}=python3 ${join(here, 'demo/producer.py')} 10000 20000`,
  '--exec', `${consumer.pid}=python3 ${join(here, 'demo/consumer.py')}`,
);
console.log(readFileSync(log, 'utf8').trim());
console.log(`\nimage and log kept in ${dir}`);
