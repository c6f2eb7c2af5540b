import type { ChildProcess } from 'node:child_process';
import { NATS_SERVER_BIN } from '../../../deploy/lib/embedded-nats.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';

/**
 * One nats-server from a config file, on an ephemeral client port, keeping everything it logs so a test can
 * assert on it (e.g. that no permissions violation was logged while the real processes ran).
 */
export class NatsNode {
  clientPort = 0;
  output = '';
  private child: ChildProcess | undefined;

  constructor(
    readonly name: string,
    private readonly configFile: string,
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.clientPort}`;
  }

  async start(): Promise<void> {
    const args = [
      '-c',
      this.configFile,
      '-a',
      '127.0.0.1',
      '-p',
      this.clientPort ? String(this.clientPort) : '-1',
      ...this.extraArgs,
    ];
    const child = spawnTracked(NATS_SERVER_BIN, args, { env: { ...process.env, NATS_SERVER_NAME: this.name } });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    const [clients] = await Promise.all([
      waitForOutput(child, /Listening for client connections on [^\s]+:(\d+)/, 15_000),
      waitForOutput(child, /Server is ready/, 15_000),
    ]);
    this.clientPort = Number(clients[1]);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child) await killAndWait(this.child, signal);
    this.child = undefined;
  }
}
