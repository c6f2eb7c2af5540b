import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Runs one plugin without a shell, in its own process group, with a minimal environment, a byte
 * cap on stdout+stderr and a deadline. Whatever the plugin does (hang, flood, crash, fork and
 * forget), the result comes back by the deadline and nothing of it is left running.
 */
export interface RunOptions {
  command: readonly string[];
  env: Record<string, string>;
  /** When to give up and kill the process group, in ms from the start. */
  deadlineMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export type RunEnd =
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: string }
  | { kind: 'timeout' }
  | { kind: 'overflow' }
  | { kind: 'aborted' }
  | { kind: 'spawn_failed'; code: string; message: string };

export interface RunResult {
  end: RunEnd;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/** Where plugins live on Debian/Ubuntu and RHEL, so `command: [check_load, ...]` finds them. */
export const DEFAULT_PATH =
  '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/nagios/plugins:/usr/lib64/nagios/plugins';

/** The plugin sees only this plus its configured variables: never the agent's own environment (NATS passwords). */
export function pluginEnv(configured: Record<string, string>): Record<string, string> {
  return { PATH: DEFAULT_PATH, LANG: 'C', ...configured };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function runPlugin(options: RunOptions): Promise<RunResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let child: ChildProcess;
    /** Set when the plugin itself has exited; its pipes may still be held by something that escaped the group. */
    let exited: RunEnd | null = null;

    const finish = (end: RunEnd): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // A hung or flooding plugin and everything it started go now (after a normal exit, 'exit' did it).
      if (end.kind === 'timeout' || end.kind === 'overflow' || end.kind === 'aborted') killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        end,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        durationMs: Math.round((performance.now() - start) * 100) / 100,
      });
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish(exited ?? { kind: 'timeout' }), options.deadlineMs);

    try {
      child = spawn(options.command[0]!, options.command.slice(1), {
        env: options.env,
        cwd: '/',
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      child = { pid: undefined } as ChildProcess;
      return finish({ kind: 'spawn_failed', code: error.code ?? 'ERROR', message: error.message });
    }
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (settled) return;
      const room = options.maxOutputBytes - bytes;
      into.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
      bytes += chunk.length;
      if (bytes > options.maxOutputBytes) finish({ kind: 'overflow' });
    };
    child.stdout!.on('data', collect(stdout));
    child.stderr!.on('data', collect(stderr));
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({ kind: 'spawn_failed', code: err.code ?? 'ERROR', message: err.message }),
    );
    // The plugin is done; descendants it left behind would hold the pipes open, so end them here.
    const ended = (code: number | null, signal: NodeJS.Signals | null): RunEnd =>
      code !== null ? { kind: 'exited', code } : { kind: 'signaled', signal: signal ?? 'unknown signal' };
    child.on('exit', (code, signal) => {
      exited = ended(code, signal);
      killGroup(child);
    });
    child.on('close', (code, signal) => finish(ended(code, signal)));
  });
}
