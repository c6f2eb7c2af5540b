import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { killAndWait } from '../deploy/lib/processes.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { ensureStreams, jetstreamClient, streamNames, Subjects, type ResourceSample } from '../shared/index.ts';
import {
  converged,
  failover,
  type Member,
  PARTITIONS,
  RULES,
  LEASE_TIMEOUT,
  sample,
  startMember,
} from './group-members.ts';
import { clusterFailover } from './group-cluster.ts';
import { report } from './lib.ts';

/** 100,000 hosts sampling every 10 s is 10,000 events/s; one sampling round of all of them is the load. */
const HOSTS = Number(process.env.GROUP_BENCH_HOSTS ?? 100_000);
const FAILOVER_SAMPLES = 5;

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
    for (const member of trio)
      if (member.child.exitCode === null && member.child.signalCode === null)
        await killAndWait(member.child, 'SIGKILL');
    const onCluster = (await clusterFailover(join(dir, 'cluster'), FAILOVER_SAMPLES)).sort((a, b) => a - b);
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
          note: `one nats-server; victim ${down.victim}; lease_timeout + up to one survivors' round (≤ 1 s) + replay`,
        },
        {
          name:
            `failover on the 3-node NATS cluster (TLS, R3), ` +
            `median of ${onCluster.length} (lease_timeout ${LEASE_TIMEOUT})`,
          value: onCluster[Math.floor(onCluster.length / 2)]!,
          unit: 'ms',
          note:
            `kill -9 of one of 3 members → its partition's next alert on ALERTS; all samples (ms): ` +
            onCluster.map((ms) => Math.round(ms)).join(', '),
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
