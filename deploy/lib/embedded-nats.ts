import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { killAndWait, waitForOutput } from './processes.ts';

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? 'nats-server';

export interface NatsServerOptions {
  /** A nats-server config file; when given, listen address and store come from it unless overridden. */
  configFile?: string;
  extraArgs?: string[];
  jetstream?: boolean;
  /** Called with every nats-server child, e.g. so a test harness can track it. */
  onSpawn?: (child: ChildProcess) => void;
  /** Where JetStream keeps its files; a fresh temp dir when omitted. */
  storeDir?: string;
}

/**
 * A real nats-server (Debian's package) on an ephemeral loopback port with JetStream in a temp dir. The port is
 * chosen by the server itself (-p -1) and read from its log, so there is no port race.
 */
export class EmbeddedNatsServer {
  port = 0;
  private child: ChildProcess | undefined;
  private store: string | undefined;

  private constructor(private readonly options: NatsServerOptions) {}

  /** Made on first use, so a server created but never started leaves no temp dir behind. */
  get storeDir(): string {
    this.store ??= this.options.storeDir ?? mkdtempSync(join(tmpdir(), 'offhook-nats-'));
    return this.store;
  }

  static async start(options: NatsServerOptions = {}): Promise<EmbeddedNatsServer> {
    const server = EmbeddedNatsServer.create(options);
    await server.start();
    return server;
  }

  /** One not started yet: start() launches it. A test fixture holds it from the describe on, before it runs. */
  static create(options: NatsServerOptions = {}): EmbeddedNatsServer {
    return new EmbeddedNatsServer(options);
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(port: number): Promise<void> {
    const args = [
      ...(this.options.configFile ? ['-c', this.options.configFile] : []),
      '-a',
      '127.0.0.1',
      '-p',
      String(port),
      ...(this.options.jetstream === false ? [] : ['-js', '-sd', this.storeDir]),
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(NATS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.options.onSpawn?.(child);
    this.child = child;
    const listening = waitForOutput(child, /Listening for client connections on [^\s]+:(\d+)/, 15_000);
    const ready = waitForOutput(child, /Server is ready/, 15_000);
    const [match] = await Promise.all([listening, ready]);
    this.port = Number(match[1]);
  }

  /** Stops the server (SIGKILL to simulate a crash, SIGTERM for a clean stop). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.child) await killAndWait(this.child, signal, graceMs);
    this.child = undefined;
  }

  /** Has the server read its config file again (SIGHUP: nats-server's reload), e.g. changed permissions. */
  reload(): void {
    this.child?.kill('SIGHUP');
  }

  /** Starts again on the same port with the same JetStream store. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.launch(this.port);
  }

  /** Starts it again on the same port; the first start takes an ephemeral one (-p -1: port 0 is nats' 4222). */
  async start(): Promise<void> {
    if (!this.child) await this.launch(this.port || -1);
  }

  /** Kills it and deletes its store; a start() after this is a fresh server, on a new port with an empty store. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.store) rmSync(this.store, { recursive: true, force: true });
    this.store = undefined;
    this.port = 0;
  }
}
