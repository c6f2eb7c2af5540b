import type { ChildProcess } from 'node:child_process';

/** Resolves with the exit status if the child exits within `timeoutMs`, else null (the child keeps running). */
export function exitWithin(
  child: ChildProcess,
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null } | null> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => {
    const onExit = (code: number | null, signal: string | null): void => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(null);
    }, timeoutMs);
    child.once('exit', onExit);
  });
}

/** SIGTERM (baresip hangs up and un-registers), SIGKILL after `graceMs`; by PID, waits for the exit. */
export async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, signal);
    } catch {
      // Already gone between the check and the signal.
    }
  };
  if (graceMs <= 0) kill('SIGKILL');
  else kill('SIGTERM');
  const timer = graceMs > 0 ? setTimeout(() => kill('SIGKILL'), graceMs) : null;
  await exited;
  if (timer) clearTimeout(timer);
}
