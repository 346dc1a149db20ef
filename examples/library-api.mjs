// Embedding fdcr: checkpoint the pipe behind two descriptors into an in-memory image and
// restore it into this very process at new descriptor numbers, data and flags intact.
// The same calls work on another process's pid (it is frozen while its fds are read).
import { readSync, writeSync } from 'node:fs';
import {
  checkpointFds,
  createFdcrContainer,
  linux,
  registerPlugin,
  restoreInto,
} from '@fdcr/core';
import { pipePlugin } from '@fdcr/plugin-pipe';

// One container per run: plugins are registered explicitly, never by importing them.
const container = createFdcrContainer();
registerPlugin(container, pipePlugin());

// A pipe with bytes in flight; the write end is close-on-exec, the read end is not.
const [readEnd, writeEnd] = linux.pipe2(0);
linux.setCloexec(writeEnd, true);
writeSync(writeEnd, 'bytes in flight\n');

// Checkpoint: nothing is consumed; the pipe still holds its data afterwards.
const image = await checkpointFds(container, process.pid, [readEnd, writeEnd]);
console.log(`checkpointed ${image.summary.entities} open files, ${image.summary.dataBytes} bytes of data`);

// Restore: fd[0] for reading at 100, fd[1] for writing at 101, FD_CLOEXEC as recorded.
const reader = image.reader();
await restoreInto(container, reader, [
  { from: readEnd, to: 100 },
  { from: writeEnd, to: 101 },
]);
reader.close();
image.close();

writeSync(101, 'and bytes written after restore\n');
const buffer = Buffer.alloc(256);
const got = readSync(100, buffer);
console.log(`fd 100 reads: ${JSON.stringify(buffer.subarray(0, got).toString())}`);
console.log(`FD_CLOEXEC: fd 100 ${linux.getCloexec(100)}, fd 101 ${linux.getCloexec(101)}`);
