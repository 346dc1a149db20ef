import { applyCloexecAtExec } from './apply-cloexec-at-exec.js';

// Entry point of the close-on-exec tracer: `node cloexec-tracer.js PID=FD,FD... ...`. fdcr
// runs it as a separate process because it cannot trace its own children (see
// applyCloexecAtExec), and one for all the processes of a restore, as starting Node is the
// main cost. Exit status 0 means every PID runs its program with FD_CLOEXEC set on its FDs;
// otherwise the reason is on standard error, and a PID being traced has been killed
// (PTRACE_O_EXITKILL) while the others still wait, stopped, for fdcr to kill them.

function parse(spec: string): [number, number[]] {
  const [pid, fds = ''] = spec.split('=');
  const numbers = [Number(pid), ...fds.split(',').map(Number)];
  if (fds === '' || numbers.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new Error(`invalid argument: '${spec}', expected PID=FD,FD...`);
  }
  return [numbers[0] ?? 0, numbers.slice(1)];
}

try {
  for (const [pid, fds] of process.argv.slice(2).map(parse)) applyCloexecAtExec(pid, fds);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
