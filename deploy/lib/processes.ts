import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { killAndWait } from '../../shared/child-process.ts';

// Child processes for the demo, tests and benchmarks (killAndWait itself is shared/child-process.ts, which the gateway
// uses too).
export { killAndWait };

/** Every child a test starts, so a failing test can never leave one running. */
const live = new Set<ChildProcess>();

export function trackChild(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return trackChild(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
}

export async function killAllTracked(): Promise<void> {
  await Promise.all([...live].map((child) => killAndWait(child, 'SIGKILL')));
}

/**
 * Resolves with the first output line matching `pattern` (stdout and stderr). Rejects if the
 * process exits first or `timeoutMs` passes; the timeout is a failure bound, not a synchronisation sleep.
 */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = pattern.exec(line);
        if (match) {
          cleanup();
          resolve(match);
          return;
        }
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`process exited (code ${code}, signal ${signal}) before printing ${pattern}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}
