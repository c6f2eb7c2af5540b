import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  jetstreamClient,
  openBucket,
  publishDurable,
  SCHEMA_VERSION,
  Subjects,
  type ResourceSample,
} from '../../../shared/index.ts';
import { partitionOf } from '../../../collector/group/index.ts';
import { spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';

export const PARTITIONS = 8;

export interface Member {
  name: string;
  child: ChildProcess;
  /** Its status page. */
  url: string;
  output(): string;
}

export interface MemberOptions {
  /** The whole `nats:` mapping (flow style) instead of the single server URL, e.g. a cluster with TLS and nkeys. */
  nats?: string;
  leaseTimeout?: string;
}

/** A real `offhook collector` process of the group, member id `name`. */
export async function startMember(
  dir: string,
  natsUrl: string,
  hookUrl: string,
  name: string,
  options: MemberOptions = {},
): Promise<Member> {
  const configFile = join(dir, `${name}.yaml`);
  writeFileSync(
    configFile,
    `
nats: ${options.nats ?? `{ servers: ["${natsUrl}"] }`}
listen: "127.0.0.1:0"
evaluation_interval: 100ms
checkpoint_interval: 200ms
group: { partitions: ${PARTITIONS}, lease_timeout: ${options.leaseTimeout ?? '2s'} }
watchdog: { member: ${name}, canary_interval: "0s", heartbeat_interval: 300ms }
rules:
  - { name: disk, kind: threshold, metric: disk_used, crit: 90 }
  - { name: load, kind: threshold, metric: load, crit: 10, for: 3s }
  - { name: marker, kind: threshold, metric: marker, crit: 0 }
  - { name: probe, kind: threshold, metric: probe, crit: 0 }
  # One transition per event (95 fires, 50 resolves): the steady-load test counts events by their notifications.
  - { name: toggle, kind: threshold, metric: toggle, crit: 90, flapping: { enabled: false } }
notifications:
  receivers:
    - { name: hook, kind: webhook, url: "${hookUrl}", retry: { initial_backoff: 100ms }, rate_limit: { max: 10000 } }
  routes: [{ receiver: hook }]
`,
  );
  const child = spawnTracked(process.execPath, ['offhook.mjs', 'collector', '--config', configFile], {
    cwd: process.cwd(),
    env: { ...process.env, OFFHOOK_LOG_LEVEL: process.env.OFFHOOK_LOG_LEVEL ?? 'info' },
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const match = await waitForOutput(child, /collector listening on (\S+)/, 30_000);
  return { name, child, url: match[1]!.replace(/\/$/, ''), output: () => text };
}

/** Partition → the member its lease names (from KV, as every member sees it). */
export async function leaseOwners(nc: NatsConnection, subjects = new Subjects()): Promise<Map<number, string>> {
  const kv = await openBucket(nc, subjects, 'checkpoints');
  const owners = new Map<number, string>();
  for (let p = 0; p < PARTITIONS; p++) {
    const entry = await kv.get(`group.partition.${p}`);
    if (entry?.operation === 'PUT' && entry.length > 0) owners.set(p, entry.json<{ member: string }>().member);
  }
  return owners;
}

/**
 * Publishes one resource sample per call. With `retries`, a failed publish (a cluster node just died) is sent again
 * with the same id until the stream confirms it, as the agent's spool does.
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
    const event: ResourceSample = {
      v: SCHEMA_VERSION,
      id: `${host}-${seq}`,
      host,
      ts: Date.now(),
      seq,
      kind: 'resource',
      intervalMs: 10_000,
      metrics: [{ name: metric, type: 'gauge', value }],
    };
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

/** How often each "status alertname host" arrived. */
export function tally(received: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of received) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** Every partition held by one of `names`, each holding between floor and ceil of its share (the settled plan). */
export function balanced(owners: Map<number, string>, names: string[]): boolean {
  if (owners.size !== PARTITIONS || [...owners.values()].some((m) => !names.includes(m))) return false;
  const loads = names.map((name) => [...owners.values()].filter((m) => m === name).length);
  return (
    Math.min(...loads) >= Math.floor(PARTITIONS / names.length) &&
    Math.max(...loads) <= Math.ceil(PARTITIONS / names.length)
  );
}

/** The hosts of `hosts` whose partition `member` holds in `owners`. */
export function hostsHeldBy(hosts: string[], owners: Map<number, string>, member: string): string[] {
  return hosts.filter((h) => owners.get(partitionOf(h, PARTITIONS)) === member);
}
