import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** The repo's development entry point, which compiles the TypeScript through tsx in every process it starts. */
const OFFHOOK_MJS = fileURLToPath(new URL('../../offhook.mjs', import.meta.url));

/**
 * With OFFHOOK_TEST_BUNDLE naming a directory `npm run build` made from this checkout (the test run's global setup
 * does that once), `node offhook.mjs ...` runs that directory's offhook.mjs instead: the same code without tsx
 * compiling it again in each of the suite's ~110 processes (1.05 s → 0.30 s of CPU each on the 2-core CI box).
 * A child whose env leaves the variable out keeps the tsx path, and so does `demo`, which runs from a source
 * checkout only (the bundle's dispatcher says so and exits).
 */
function viaBundle(command: string, args: string[], options: SpawnOptions): string[] {
  const bundle = (options.env ?? process.env).OFFHOOK_TEST_BUNDLE;
  if (!bundle || (command !== process.execPath && command !== 'node') || args[0] === undefined) return args;
  if (args[1] === 'demo') return args;
  const entry = isAbsolute(args[0]) ? args[0] : resolve(String(options.cwd ?? process.cwd()), args[0]);
  return entry === OFFHOOK_MJS ? [join(bundle, 'offhook.mjs'), ...args.slice(1)] : args;
}

export function spawnTracked(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const argv = viaBundle(command, args, options);
  return trackChild(spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...options }));
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
