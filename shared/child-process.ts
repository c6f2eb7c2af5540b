import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process by its PID and resolves once it has exited: `signal` first (SIGTERM lets baresip hang up and
 * nats-server flush), SIGKILL if it still runs `graceMs` later; a grace of 0 or less sends SIGKILL at once. The one
 * "stop a child and wait" for the gateway's baresip, the demo's processes and every test and benchmark.
 */
export async function killAndWait(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (sig: NodeJS.Signals): void => {
    try {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, sig);
    } catch {
      // ESRCH: it exited between the check and the signal, which is what we wait for anyway.
    }
  };
  kill(graceMs > 0 ? signal : 'SIGKILL');
  const timer = graceMs > 0 ? setTimeout(() => kill('SIGKILL'), graceMs) : null;
  await exited;
  if (timer) clearTimeout(timer);
}
