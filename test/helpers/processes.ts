import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { killAndWait } from '../../deploy/lib/child-process.ts';

export { killAndWait, waitForOutput } from '../../deploy/lib/child-process.ts';

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
