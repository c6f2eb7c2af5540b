import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../collector/group/index.ts';
import { killAndWait, waitForOutput } from '../deploy/lib/processes.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import {
  ensureStreams,
  jetstreamClient,
  openBucket,
  SCHEMA_VERSION,
  streamNames,
  Subjects,
  type ResourceSample,
} from '../shared/index.ts';
import { report } from './lib.ts';

/** 100,000 hosts sampling every 10 s is 10,000 events/s; one sampling round of all of them is the load. */
const HOSTS = Number(process.env.GROUP_BENCH_HOSTS ?? 100_000);
const PARTITIONS = 16;
const PARTITION_IDS = Array.from({ length: PARTITIONS }, (_, p) => p);
const RULES = 5;
const LEASE_TIMEOUT = '10s';
/** Throughput members are paused while the load is published, so their lease must outlast the pause. */
const PAUSE_LEASE_TIMEOUT = '120s';
const OFFHOOK = fileURLToPath(new URL('../offhook.mjs', import.meta.url));

interface Member {
  name: string;
  child: ChildProcess;
  url: string;
}

function sample(host: string, seq: number): ResourceSample {
  const metrics = Array.from({ length: RULES }, (_, i) => ({
    name: `gauge_${i}`,
    type: 'gauge' as const,
    value: (seq * 7 + i * 13) % 80,
  }));
  return {
    v: SCHEMA_VERSION,
    id: `${host}-${seq}`,
    host,
    ts: Date.now(),
    seq,
    kind: 'resource',
    intervalMs: 10_000,
    metrics,
  };
}

async function startMember(
  dir: string,
  natsUrl: string,
  prefix: string,
  name: string,
  lease = PAUSE_LEASE_TIMEOUT,
): Promise<Member> {
  const file = join(dir, `${prefix}-${name}.yaml`);
  const rule = (i: number): string => `  - { name: g${i}, kind: threshold, metric: gauge_${i}, crit: 95 }`;
  const rules = Array.from({ length: RULES }, (_, i) => rule(i)).join('\n');
  writeFileSync(
    file,
    `nats: { servers: ["${natsUrl}"], prefix: ${prefix} }
listen: "127.0.0.1:0"
checkpoint_interval: 5s
group: { partitions: ${PARTITIONS}, lease_timeout: ${lease} }
watchdog: { member: ${name}, canary_interval: "0s" }
rules:
${rules}
notifications: { receivers: [], routes: [] }
`,
  );
  const env = { ...process.env, OFFHOOK_LOG_LEVEL: 'warn' };
  const child = spawn(process.execPath, [OFFHOOK, 'collector', '--config', file], { env });
  const match = await waitForOutput(child, /collector listening on (\S+)/, 60_000);
  return { name, child, url: match[1]!.replace(/\/$/, '') };
}

async function owners(nc: NatsConnection, prefix: string): Promise<string[]> {
  const kv = await openBucket(nc, new Subjects(prefix), 'checkpoints');
  const found: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const entry = await kv.get(`group.partition.${p}`);
    found.push(entry?.operation === 'PUT' && entry.length > 0 ? entry.json<{ member: string }>().member : '');
  }
  return found;
}

/** Every partition held by one of `names`, each holding its share (floor or ceil of partitions / members). */
async function converged(nc: NatsConnection, prefix: string, names: string[]): Promise<string[]> {
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

/** The lowest EVENTS position over all partitions, each read from the member that evaluates it. */
async function lowestPosition(members: Member[]): Promise<number> {
  const seqs = new Map<number, number>();
  for (const member of members) {
    const response = await fetch(`${member.url}/api/partitions`);
    const list = (await response.json()) as { partition: number; member: string; seq: number }[];
    for (const p of list) if (p.member === member.name) seqs.set(p.partition, p.seq);
  }
  return seqs.size < PARTITIONS ? 0 : Math.min(...seqs.values());
}

async function publishRound(nc: NatsConnection, subjects: Subjects, round: number): Promise<number> {
  const js = jetstreamClient(nc);
  const inflight: Promise<unknown>[] = [];
  const started = performance.now();
  for (let h = 0; h < HOSTS; h++) {
    const event = sample(`host${h}`, round);
    inflight.push(js.publish(subjects.event(event.host, 'resource'), JSON.stringify(event), { msgID: event.id }));
    if (inflight.length >= 1000) await Promise.all(inflight.splice(0));
  }
  await Promise.all(inflight);
  return HOSTS / ((performance.now() - started) / 1000);
}

/**
 * Members already converged are paused (SIGSTOP) while one round of every host is published, then resumed: events/s
 * until every partition has read it is what they can carry, not what the publisher sustains.
 */
async function throughput(
  nc: NatsConnection,
  prefix: string,
  members: Member[],
): Promise<{ rate: number; publish: number }> {
  const subjects = new Subjects(prefix);
  const jsm = await jetstream(nc).jetstreamManager();
  const base = (await jsm.streams.info(streamNames(subjects).events)).state.last_seq;
  for (const member of members) member.child.kill('SIGSTOP');
  let publish: number;
  try {
    publish = await publishRound(nc, subjects, 1);
  } finally {
    for (const member of members) member.child.kill('SIGCONT');
  }
  const started = performance.now();
  while ((await lowestPosition(members)) < base + HOSTS) await new Promise((resolve) => setTimeout(resolve, 100));
  return { rate: HOSTS / ((performance.now() - started) / 1000), publish };
}

/** The baseline: an ordered consumer reading the same load, already in the stream, that only JSON-parses it. */
async function bareSubscriber(nc: NatsConnection, prefix: string): Promise<number> {
  const subjects = new Subjects(prefix);
  await ensureStreams(nc, subjects);
  await publishRound(nc, subjects, 1);
  const stream = streamNames(subjects).events;
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  let seen = 0;
  const started = performance.now();
  await new Promise<void>((resolve) => {
    void consumer.consume({
      callback: (msg) => {
        const parsed = JSON.parse(new TextDecoder().decode(msg.data)) as ResourceSample;
        if (parsed.metrics.length > 0 && ++seen === HOSTS) resolve();
      },
    });
  });
  return HOSTS / ((performance.now() - started) / 1000);
}

/** kill -9 of the member holding a partition → the first alert of that partition's hosts on ALERTS. */
async function failover(
  nc: NatsConnection,
  prefix: string,
  members: Member[],
  held: string[],
): Promise<{ ms: number; victim: string }> {
  const subjects = new Subjects(prefix);
  const victim = members[members.length - 1]!;
  const partition = PARTITION_IDS.find((p) => held[p] === victim.name)!;
  let host = 'failover0';
  for (let i = 0; partitionOf(host, PARTITIONS) !== partition; i++) host = `failover${i}`;
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

export async function run(): Promise<void> {
  const server = await EmbeddedNatsServer.start();
  const nc = await connect({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), 'offhook-group-bench-'));
  const started: Member[] = [];
  try {
    const bare = await bareSubscriber(nc, 'bare');
    await ensureStreams(nc, new Subjects('one'));
    const one = [await startMember(dir, server.url, 'one', 'solo')];
    started.push(...one);
    await converged(nc, 'one', ['solo']);
    const single = await throughput(nc, 'one', one);
    await killAndWait(one[0]!.child, 'SIGTERM');
    await ensureStreams(nc, new Subjects('three'));
    const three: Member[] = [];
    for (const name of ['m1', 'm2', 'm3']) three.push(await startMember(dir, server.url, 'three', name));
    started.push(...three);
    const shares = await converged(nc, 'three', ['m1', 'm2', 'm3']);
    const group = await throughput(nc, 'three', three);
    for (const member of three) await killAndWait(member.child, 'SIGTERM');
    await ensureStreams(nc, new Subjects('fail'));
    const trio: Member[] = [];
    for (const name of ['m1', 'm2', 'm3']) trio.push(await startMember(dir, server.url, 'fail', name, LEASE_TIMEOUT));
    started.push(...trio);
    const held = await converged(nc, 'fail', ['m1', 'm2', 'm3']);
    const down = await failover(nc, 'fail', trio, held);
    const share = (name: string): number => shares.filter((m) => m === name).length;
    report({
      bench: 'group',
      rows: [
        {
          name: `events/s, 3 collectors (${PARTITIONS} partitions, ${RULES} rules), ${HOSTS} hosts`,
          value: group.rate,
          unit: 'events/s',
          baseline: { name: 'bare subscriber, JSON.parse only', value: bare },
          note:
            'one sampling round of every host published while the members were paused (SIGSTOP), timed from ' +
            `SIGCONT until every partition read it; partitions m1/m2/m3: ${['m1', 'm2', 'm3'].map(share).join('/')}; ` +
            'three processes and ' +
            `nats-server share one 2-core machine (publisher ${Math.round(group.publish)}/s)`,
        },
        {
          name: 'events/s per collector, 3 collectors',
          value: group.rate / 3,
          unit: 'events/s',
          note: "each member reads every event, decodes and evaluates only its own partitions' events",
        },
        {
          name: `events/s, 1 collector (${PARTITIONS} partitions)`,
          value: single.rate,
          unit: 'events/s',
          baseline: { name: 'bare subscriber, JSON.parse only', value: bare },
          note: 'same method: paused while the load is published',
        },
        {
          name: `failover: kill -9 → its partition's next alert (lease_timeout ${LEASE_TIMEOUT})`,
          value: down.ms,
          unit: 'ms',
          note: `victim ${down.victim}; lease_timeout + up to a third of it (the survivors' round) + replay`,
        },
      ],
    });
  } finally {
    for (const member of started) {
      const running = member.child.exitCode === null && member.child.signalCode === null;
      if (running) await killAndWait(member.child, 'SIGKILL');
    }
    await nc.drain();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
