import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../collector/group/index.ts';
import { waitForOutput } from '../deploy/lib/processes.ts';
import { jetstreamClient, openBucket, Subjects, type ResourceSample } from '../shared/index.ts';
import { resourceSample } from './lib.ts';

/** The collector group members of bench/group: real `offhook collector` processes and what is measured on them. */
export const PARTITIONS = 16;
export const PARTITION_IDS = Array.from({ length: PARTITIONS }, (_, p) => p);
export const RULES = 5;
export const LEASE_TIMEOUT = '10s';
/** Throughput members are paused while the load is published, so their lease must outlast the pause. */
export const PAUSE_LEASE_TIMEOUT = '120s';
const OFFHOOK = fileURLToPath(new URL('../offhook.mjs', import.meta.url));

export interface Member {
  name: string;
  child: ChildProcess;
  url: string;
  /** What it logged, when GROUP_LOAD_LOGS is set (empty otherwise). */
  output(): string;
}

export function sample(host: string, seq: number): ResourceSample {
  const metrics = Array.from({ length: RULES }, (_, i) => ({
    name: `gauge_${i}`,
    type: 'gauge' as const,
    value: (seq * 7 + i * 13) % 80,
  }));
  return resourceSample(host, seq, metrics);
}

export async function startMember(
  dir: string,
  natsUrl: string,
  prefix: string,
  name: string,
  lease = PAUSE_LEASE_TIMEOUT,
  /** The whole `nats:` mapping (flow style), e.g. a cluster with TLS and nkeys; `natsUrl` and `prefix` then unused. */
  natsBlock?: string,
  /** A webhook receiver every alert is routed to (none by default: the throughput runs notify nothing). */
  hookUrl?: string,
): Promise<Member> {
  const file = join(dir, `${prefix}-${name}.yaml`);
  const rule = (i: number): string => `  - { name: g${i}, kind: threshold, metric: gauge_${i}, crit: 95 }`;
  // With a webhook: a probe rule whose every event is a transition (no flap damping), to count events by notification.
  const probe = '  - { name: probe, kind: threshold, metric: probe_flip, crit: 95, flapping: { enabled: false } }';
  const rules = [...Array.from({ length: RULES }, (_, i) => rule(i)), ...(hookUrl ? [probe] : [])].join('\n');
  writeFileSync(
    file,
    `nats: ${natsBlock ?? `{ servers: ["${natsUrl}"], prefix: ${prefix} }`}
listen: "127.0.0.1:0"
checkpoint_interval: 5s
group: { partitions: ${PARTITIONS}, lease_timeout: ${lease} }
watchdog: { member: ${name}, canary_interval: "0s" }
rules:
${rules}
${
  hookUrl
    ? `notifications:
  receivers:
    - name: hook
      kind: webhook
      url: "${hookUrl}"
      rate_limit: { max: 100000 }
      max_queue: 100000
      retry: { initial_backoff: 100ms }
  routes: [{ receiver: hook }]`
    : 'notifications: { receivers: [], routes: [] }'
}
`,
  );
  // OFFHOOK_LOG_LEVEL=info and GROUP_LOAD_LOGS=<dir> keep what the members said for a post-mortem (group-load).
  const env = { ...process.env, OFFHOOK_LOG_LEVEL: process.env.OFFHOOK_LOG_LEVEL ?? 'warn' };
  const child = spawn(process.execPath, [OFFHOOK, 'collector', '--config', file], { env });
  let text = '';
  if (process.env.GROUP_LOAD_LOGS) child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const match = await waitForOutput(child, /collector listening on (\S+)/, 60_000);
  return { name, child, url: match[1]!.replace(/\/$/, ''), output: () => text };
}

export async function owners(nc: NatsConnection, prefix: string): Promise<string[]> {
  const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
  const found: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const entry = await kv.get(`group.partition.${p}`);
    found.push(entry?.operation === 'PUT' && entry.length > 0 ? entry.json<{ member: string }>().member : '');
  }
  return found;
}

/** Every partition held by one of `names`, each holding its share (floor or ceil of partitions / members). */
export async function converged(nc: NatsConnection, prefix: string, names: string[]): Promise<string[]> {
  for (;;) {
    const have = await owners(nc, prefix);
    const loads = names.map((name) => have.filter((m) => m === name).length);
    const settled =
      have.every((m) => names.includes(m)) &&
      Math.min(...loads) >= Math.floor(PARTITIONS / names.length) &&
      Math.max(...loads) <= Math.ceil(PARTITIONS / names.length);
    if (settled) return have;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** kill -9 of the member holding a partition → the first alert of that partition's hosts on ALERTS. */
export async function failover(
  nc: NatsConnection,
  prefix: string,
  members: Member[],
  held: string[],
  tag = '',
): Promise<{ ms: number; victim: string }> {
  const subjects = new Subjects(prefix);
  const victim = members[members.length - 1]!;
  const partition = PARTITION_IDS.find((p) => held[p] === victim.name)!;
  let host = `failover${tag}0`;
  for (let i = 0; partitionOf(host, PARTITIONS) !== partition; i++) host = `failover${tag}${i}`;
  const arrived = new Promise<number>((resolve) => {
    const sub = nc.subscribe(`${prefix}.v1.alerts.*.${host}`, {
      callback: () => {
        sub.unsubscribe();
        resolve(performance.now());
      },
    });
  });
  const killed = performance.now();
  victim.child.kill('SIGKILL');
  const event = { ...sample(host, 1), metrics: [{ name: 'gauge_0', type: 'gauge' as const, value: 99 }] };
  await jetstreamClient(nc).publish(subjects.event(host, 'resource'), JSON.stringify(event), { msgID: event.id });
  return { ms: (await arrived) - killed, victim: victim.name };
}
