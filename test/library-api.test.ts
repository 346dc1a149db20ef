import { readSync, writeSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointFds, createFdcrContainer, isFdcrError, linux, registerPlugin, restoreInto } from '@fdcr/core';
import { pipePlugin } from '@fdcr/plugin-pipe';

const container = createFdcrContainer();
registerPlugin(container, pipePlugin());
const opened: number[] = [];

afterEach(() => {
  for (const fd of opened.splice(0)) linux.closeQuietly(fd);
});

function readAll(fd: number): string {
  const buffer = Buffer.alloc(1 << 16);
  const got = linux.readAvailable(fd, buffer);
  return buffer.subarray(0, got).toString();
}

describe('checkpointFds and restoreInto', () => {
  it('restores a pipe into this process at chosen fds with data and FD_CLOEXEC as recorded', async () => {
    const [r, w] = linux.pipe2(linux.O_NONBLOCK);
    opened.push(r, w);
    linux.setCloexec(w, true);
    writeSync(w, 'in flight');
    const image = await checkpointFds(container, process.pid, [r, w]);
    const reader = image.reader();
    await restoreInto(container, reader, [{ from: r, to: 200 }, { from: w, to: 201 }]);
    opened.push(200, 201);
    reader.close();
    image.close();

    // The original pipe is untouched by the checkpoint...
    expect(readAll(r)).toBe('in flight');
    // ...and the restored one is a separate pipe with the same data and flags.
    writeSync(201, ' and more');
    expect(readAll(200)).toBe('in flight and more');
    expect(linux.getCloexec(200)).toBe(false);
    expect(linux.getCloexec(201)).toBe(true);
    expect(linux.getStatusFlags(200) & linux.O_NONBLOCK).toBe(linux.O_NONBLOCK);
  });

  it('installs at the lowest free fds, the very numbers the recreated pipe first takes', async () => {
    const [r, w] = linux.pipe2();
    opened.push(r, w);
    writeSync(w, 'low');
    const image = await checkpointFds(container, process.pid, [r, w]);
    const reader = image.reader();
    // The next two free numbers: recreating the pipe takes exactly these before installing.
    const [lowR, lowW] = linux.pipe2();
    linux.close(lowR);
    linux.close(lowW);
    await restoreInto(container, reader, [{ from: r, to: lowR }, { from: w, to: lowW }]);
    opened.push(lowR, lowW);
    reader.close();
    image.close();

    writeSync(lowW, ' fds');
    expect(readAll(lowR)).toBe('low fds');
  });

  it('refuses a target fd that is already open and creates nothing', async () => {
    const [r, w] = linux.pipe2();
    opened.push(r, w);
    const image = await checkpointFds(container, process.pid, [r]);
    const reader = image.reader();
    const error = await restoreInto(container, reader, [{ from: r, to: w }]).catch((e: unknown) => e);
    reader.close();
    image.close();
    expect(isFdcrError(error, 'FDCR_E_RESTORE_FD_BUSY')).toBe(true);
  });

  it('runs the documented example end to end', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['examples/library-api.mjs']);
    expect(stdout).toContain('fd 100 reads: "bytes in flight\\nand bytes written after restore\\n"');
    expect(stdout).toContain('FD_CLOEXEC: fd 100 false, fd 101 true');
  });
});
