import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { killAndWait } from '../../shared/child-process.ts';

/** A process still running this long after SIGTERM is SIGKILLed: Ctrl-C ends the whole demo within seconds. */
const STOP_GRACE_MS = 3000;
/** The gateway's native line operations each hold a libuv pool thread; libuv reads this before Node runs any JS. */
const GATEWAY_POOL = { UV_THREADPOOL_SIZE: '16' };
const OFFHOOK_BIN = fileURLToPath(new URL('../../offhook.mjs', import.meta.url));

export interface SupervisedProcess {
  name: string;
  child: ChildProcess;
}

/**
 * Starts offhook processes for the demo and stops every one of them by PID. Their JSON logs go
 * to a per-process file handler; the demo only shows the lines a person needs.
 */
export class DemoSupervisor {
  private readonly processes: SupervisedProcess[] = [];

  constructor(
    private readonly onLogLine: (name: string, record: Record<string, unknown> | null, raw: string) => void,
  ) {}

  start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): SupervisedProcess {
    const child = spawn(process.execPath, [OFFHOOK_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...(args[0] === 'gateway' ? GATEWAY_POOL : {}), ...env },
    });
    const entry = { name, child };
    this.processes.push(entry);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        let record: Record<string, unknown> | null = null;
        try {
          const parsed: unknown = JSON.parse(line);
          if (parsed && typeof parsed === 'object') record = parsed as Record<string, unknown>;
        } catch {
          record = null;
        }
        if (!record) {
          const plain = this.plainLines.get(name);
          plain?.push(line);
          if (plain && plain.length > 10) plain.shift();
        }
        this.onLogLine(name, record, line);
      });
    }
    // Plain (non-JSON) lines are what a process prints before its logger exists, e.g. config errors:
    // keep the last few and show them if it dies.
    const plain: string[] = [];
    this.plainLines.set(name, plain);
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      const said = plain.length > 0 ? `: ${plain.slice(-3).join(' | ')}` : '';
      this.onLogLine(name, { level: 'error', msg: `${name} exited (code ${code}, signal ${signal})${said}` }, '');
    });
    return entry;
  }

  private stopping = false;
  private readonly plainLines = new Map<string, string[]>();

  pids(): number[] {
    return this.processes.map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.processes.map((p) => killAndWait(p.child, 'SIGTERM', STOP_GRACE_MS)));
  }
}
