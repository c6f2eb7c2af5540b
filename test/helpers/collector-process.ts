import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { jetstreamClient, publishDurable, Subjects } from '../../shared/index.ts';
import { resourceSample } from '../../bench/lib.ts';
import { connectTo, type EmbeddedNatsServer, useNatsServer } from './nats-server.ts';

export interface ProcessTestBed {
  readonly server: EmbeddedNatsServer;
  /** A connection of the test's own, to publish events and read KV. */
  readonly nc: NatsConnection;
  /** A temp directory for config files, removed after the describe. */
  readonly dir: string;
}

/** Registers, in the calling describe, one nats-server, a connection to it and a temp directory, all closed after. */
export function useProcessTestBed(): ProcessTestBed {
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  before(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-collector-'));
  });
  after(async () => {
    await nc?.drain();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    server,
    get nc() {
      return nc;
    },
    get dir() {
      return dir;
    },
  };
}

export interface CollectorConfigParts {
  /** The whole `nats:` mapping in flow style, e.g. `{ servers: ["nats://127.0.0.1:4222"] }`. */
  nats: string;
  /** Every notification goes to the Alertmanager webhook at this URL (receiver `hook`). */
  hookUrl: string;
  /** Top-level YAML (rules, inhibit_rules, checkpoint_interval, group...), each key at column 0. */
  body: string;
  /** More fields of the `hook` receiver's flow mapping, e.g. `rate_limit: { max: 10000 }`. */
  hookFields?: string;
}

/** A collector.yaml for a process test: a loopback status page, 100 ms evaluations, one webhook receiver. */
export function collectorYaml({ nats, hookUrl, body, hookFields }: CollectorConfigParts): string {
  const extra = hookFields ? `, ${hookFields}` : '';
  return `
nats: ${nats}
listen: "127.0.0.1:0"
evaluation_interval: 100ms
${body.trim()}
notifications:
  receivers:
    - { name: hook, kind: webhook, url: "${hookUrl}", retry: { initial_backoff: 100ms }${extra} }
  routes: [{ receiver: hook }]
`;
}

export interface CollectorProcess {
  child: ChildProcess;
  /** Its status page, without a trailing slash. */
  url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

/** A real `offhook collector` process on `configFile`; resolves once its status page listens. */
export async function startCollectorProcess(configFile: string): Promise<CollectorProcess> {
  const child = spawnTracked(process.execPath, ['offhook.mjs', 'collector', '--config', configFile], {
    cwd: process.cwd(),
    env: { ...process.env, OFFHOOK_LOG_LEVEL: process.env.OFFHOOK_LOG_LEVEL ?? 'info' },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const match = await waitForOutput(child, /collector listening on (\S+)/, 30_000);
  return { child, url: match[1]!.replace(/\/$/, ''), output: () => text };
}

/** Writes `yaml` as dir/name.yaml and starts a collector on it. */
export function startCollectorWith(dir: string, name: string, yaml: string): Promise<CollectorProcess> {
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(configFile, yaml);
  return startCollectorProcess(configFile);
}

/** `offhook alerts --json` with `flags` against the collector on `natsUrl`: the alerts it lists. */
export async function alertsFromCli<T>(natsUrl: string, flags: string[] = []): Promise<T[]> {
  const cli = spawnTracked(process.execPath, ['offhook.mjs', 'alerts', ...flags, '--json', '--nats', natsUrl], {
    cwd: process.cwd(),
  });
  let out = '';
  cli.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  await new Promise((resolve) => cli.once('exit', resolve));
  return JSON.parse(out) as T[];
}

/**
 * Publishes one resource sample per call, numbered per host as an agent does. With `retries`, a failed publish (a
 * cluster node just died) is sent again with the same id until the stream confirms it, as the agent's spool does.
 */
export function eventSender(
  nc: NatsConnection,
  subjects = new Subjects(),
  retries = 0,
): (host: string, metric: string, value: number) => Promise<unknown> {
  const js = jetstreamClient(nc);
  const seqs = new Map<string, number>();
  return (host, metric, value) => {
    const seq = (seqs.get(host) ?? 0) + 1;
    seqs.set(host, seq);
    const event = resourceSample(host, seq, [{ name: metric, type: 'gauge', value }]);
    const send = async (attempt: number): Promise<unknown> => {
      try {
        return await publishDurable(js, subjects.event(host, 'resource'), event);
      } catch (err) {
        if (attempt >= retries) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100)); // retry back-off, as the agent's spool does
        return send(attempt + 1);
      }
    };
    return send(0);
  };
}
