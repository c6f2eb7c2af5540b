import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../../../collector/group/index.ts';
import { openBucket, Subjects } from '../../../shared/index.ts';
import { type CollectorProcess, collectorYaml, startCollectorWith } from '../../helpers/collector-process.ts';

export { eventSender } from '../../helpers/collector-process.ts';

export const PARTITIONS = 8;

export interface Member extends CollectorProcess {
  name: string;
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
  const yaml = collectorYaml({
    nats: options.nats ?? `{ servers: ["${natsUrl}"] }`,
    hookUrl,
    hookFields: 'rate_limit: { max: 10000 }',
    body: `
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
`,
  });
  return { name, ...(await startCollectorWith(dir, name, yaml)) };
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
