import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { spawnTracked } from '../../deploy/lib/processes.ts';
import { ensureStreams, Subjects } from '../../shared/index.ts';
import { connectTo, type EmbeddedNatsServer, useNatsServer } from '../helpers/nats-server.ts';

/** Fields merged over the gateway config, `line`'s into its line mapping; state_dir is the test's to choose. */
type ConfigOverrides = { state_dir: string; line?: Record<string, unknown> } & Record<string, unknown>;

export interface GatewayProcessBedOptions {
  /** The NATS subject prefix of the gateways and of `subjects`. */
  prefix: string;
  /** Options of the test's own connection (a test that restarts the server wants it to reconnect). */
  connect?: Record<string, unknown>;
  /** Merged over the gateway config writeConfig() writes; `dir` is the bed's directory. */
  config: (dir: string) => ConfigOverrides;
}

export interface GatewayProcessBed {
  readonly server: EmbeddedNatsServer;
  /** The test's own connection, the prefix's streams made on it: from the before hook to the after hook. */
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  /**
   * DIR/<name>-gateway.yaml: gateway gw1 on the bed's server and prefix, ack_wait 1s, Alice on 100, a sim line at
   * speed 100 whose far end plays `farEnd` into the transcript DIR/<name>.jsonl.
   */
  writeConfig(name: string, farEnd: object[]): { file: string; transcript: string };
  /** The real `offhook gateway --config file`, logging at info (the tests wait on its lines), tracked by PID. */
  spawn(file: string): ChildProcess;
}

/**
 * Registers, in the calling describe, a real nats-server, a connection with the prefix's streams, and a temp
 * directory, for tests that run the gateway as a child process and kill or restart it.
 */
export function useGatewayProcessBed(options: GatewayProcessBedOptions): GatewayProcessBed {
  const { prefix, connect = {}, config } = options;
  const server = useNatsServer();
  const subjects = new Subjects(prefix);
  let nc: NatsConnection | undefined;
  let dir: string | undefined;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), `offhook-gw-${prefix}-`));
    nc = await connectTo(server, connect);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc?.drain();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const inDir = (): string => {
    if (!dir) throw new Error('useGatewayProcessBed: call writeConfig() inside tests, once the before hook ran');
    return dir;
  };
  return {
    server,
    subjects,
    get nc(): NatsConnection {
      if (!nc) throw new Error('useGatewayProcessBed: read nc inside hooks and tests');
      return nc;
    },
    writeConfig(name, farEnd) {
      const transcript = join(inDir(), `${name}.jsonl`);
      writeFileSync(transcript, '');
      const file = join(inDir(), `${name}-gateway.yaml`);
      const { line, ...extra } = config(inDir());
      const gateway = {
        gateway_host: 'gw1',
        nats: { servers: [server.url], prefix },
        metrics_listen: '127.0.0.1:0',
        ack_wait: '1s',
        line: { backend: 'sim', ...line, sim: { speed: 100, transcript_file: transcript, far_end: farEnd } },
        people: [{ name: 'alice', number: '100' }],
        // A killed call counts against Alice's number too; GoAlert's 1-a-minute default would hold the repeat back.
        budget: { per_number: { max_calls_per_minute: 10 } },
        ...extra,
      };
      writeFileSync(file, stringify(gateway));
      return { file, transcript };
    },
    spawn(file) {
      const child = spawnTracked('node', ['offhook.mjs', 'gateway', '--config', file], {
        env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' },
      });
      if (process.env.OFFHOOK_TEST_LOG) child.stdout?.on('data', (d: Buffer) => process.stderr.write(d));
      return child;
    },
  };
}
