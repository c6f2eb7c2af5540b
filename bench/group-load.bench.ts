import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../collector/group/index.ts';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { killAndWait } from '../deploy/lib/processes.ts';
import { copiesOf, webhookReceiver, type ReceivedAlert } from '../deploy/lib/webhook-receiver.ts';
import { Alert, ensureStreams, jetstreamClient, streamNames, Subjects } from '../shared/index.ts';
import { converged, LEASE_TIMEOUT, type Member, owners, PARTITIONS, sample, startMember } from './group-members.ts';
import { report, resourceSample } from './lib.ts';

const PREFIX = 'steady';
/** Background hosts sampling every 10 s: GROUP_LOAD_HOSTS / 10 events/s that never fire. */
const HOSTS = Number(process.env.GROUP_LOAD_HOSTS ?? 10_000);
/** Probe hosts send every PROBE_MS; each event flips `probe_flip` across 95 (no flap damping): one notification. */
const PROBES = 48;
const PROBE_MS = 500;
const TICK_MS = 100;
const LEASE_MS = Number.parseInt(LEASE_TIMEOUT, 10) * 1000;

/** Odd seq fires (above 95), even resolves; unique per host, so the notification's `value` names its event. */
const probeValue = (seq: number): number => (seq % 2 === 1 ? 100 + seq : -seq);

/**
 * Failover under steady load on one nats-server: three members, a steady background of HOSTS hosts at 10 s sampling
 * plus PROBES hosts whose every event is an alert transition; the member holding the most probes is killed -9 while
 * the load runs. Counts every probe event through the webhook (lost, twice) and ALERTS, and times kill → the
 * victim's probes evaluated again. The 3-node cluster is left to bench/group-cluster (failover without load).
 */
export async function run(): Promise<void> {
  const server = await EmbeddedNatsServer.start();
  const nc = await connect({ servers: server.url });
  const dir = mkdtempSync(join(tmpdir(), 'offhook-group-load-'));
  const hook = await webhookReceiver();
  const members: Member[] = [];
  try {
    const subjects = new Subjects(PREFIX);
    await ensureStreams(nc, subjects);
    for (const name of ['m1', 'm2', 'm3'])
      members.push(await startMember(dir, server.url, PREFIX, name, LEASE_TIMEOUT, undefined, hook.url));
    const held = await converged(nc, PREFIX, ['m1', 'm2', 'm3']);
    const probes = Array.from({ length: PROBES }, (_, i) => `probe${i}`);
    const ownerOf = (host: string): string => held[partitionOf(host, PARTITIONS)]!;

    const load = steadyLoad(nc, subjects, probes);
    await load.until(() => load.ticks >= 50); // 5 s of steady load before the kill
    const victim = [...members].sort(
      (a, b) => probes.filter((p) => ownerOf(p) === b.name).length - probes.filter((p) => ownerOf(p) === a.name).length,
    )[0]!;
    const victimProbes = probes.filter((p) => ownerOf(p) === victim.name);
    const sentBefore = new Set(load.sent());
    const killedAt = Date.now();
    await killAndWait(victim.child, 'SIGKILL');
    const takenMs = takenOver(nc, victim.name).then((at) => at - killedAt);
    const key = (a: ReceivedAlert): string => `${a.host} ${a.annotations.value}`;
    const probeAlerts = (): ReceivedAlert[] => hook.alerts.filter((a) => a.alertname === 'probe');
    const resumed = (): ReceivedAlert | undefined =>
      probeAlerts().find((a) => victimProbes.includes(a.host) && !sentBefore.has(key(a)));
    await load.until(() => resumed() !== undefined);
    const resumedMs = resumed()!.at - killedAt;
    const takeoverMs = await takenMs;
    const ticksThen = load.ticks;
    await load.until(() => load.ticks >= ticksThen + 50); // 5 s more after the takeover
    await load.stop();

    const expected = new Set(load.sent());
    const deadline = Date.now() + 120_000;
    while (new Set(probeAlerts().map(key)).size < expected.size && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const heard = new Set(probeAlerts().map(key));
    const lost = [...expected].filter((k) => !heard.has(k)).length;
    const copies = copiesOf(probeAlerts(), (a) => `${a.status} ${key(a)}`);
    const twice = copies.twice.length;
    const stored = await storedTransitions(nc, subjects);
    const lostAlerts = expected.size - new Set(stored).size;
    const storedTwice = stored.length - new Set(stored).size;

    const logs = process.env.GROUP_LOAD_LOGS;
    if (logs) for (const m of members) writeFileSync(join(logs, `${m.name}.log`), m.output());
    const background = HOSTS / 10;
    const probeRate = (PROBES * 1000) / PROBE_MS;
    const setting =
      `one nats-server, 3 members, ${background} events/s background (${HOSTS} hosts at 10 s) + ${probeRate}/s ` +
      `from ${PROBES} probe hosts; kill -9 of ${victim.name} (${victimProbes.length} probes) while the load runs`;
    report({
      bench: 'group-load',
      rows: [
        {
          name: `failover under load: kill -9 → its hosts' new events notified (lease_timeout ${LEASE_TIMEOUT})`,
          value: resumedMs,
          unit: 'ms',
          baseline: { name: 'lease_timeout', value: LEASE_MS },
          note: `${setting}; bound asked: lease_timeout + 2 s = ${LEASE_MS + 2000} ms`,
        },
        {
          name: `failover under load: kill -9 → survivors hold all its partitions (lease_timeout ${LEASE_TIMEOUT})`,
          value: takeoverMs,
          unit: 'ms',
          baseline: { name: 'lease_timeout', value: LEASE_MS },
          note:
            'from the leases in KV, polled every 100 ms; the row above adds the replay from the last checkpoint ' +
            '(checkpoint_interval 5 s here) and the notification',
        },
        {
          name: 'probe events lost (no notification)',
          value: lost,
          unit: 'events',
          note: `${expected.size} probe events, each one alert transition`,
        },
        {
          name: 'duplicate notifications: one transition under two idempotency keys (two decisions)',
          value: twice,
          unit: 'notifications',
          note: twice > 0 ? `twice: ${copies.twice.slice(0, 5).join(', ')}` : 'none',
        },
        {
          name: 'resent notifications: one transition twice under one key (at-least-once across the kill)',
          value: copies.resent.length,
          unit: 'notifications',
          note:
            `${copies.unkeyed} without a key; ` +
            (copies.resent.length > 0 ? `resent: ${copies.resent.slice(0, 5).join(', ')}` : 'none'),
        },
        {
          name: 'probe transitions missing on ALERTS',
          value: lostAlerts,
          unit: 'alerts',
          note: `${stored.length} stored, ${storedTwice} stored twice`,
        },
      ],
    });
  } finally {
    for (const member of members)
      if (member.child.exitCode === null && member.child.signalCode === null)
        await killAndWait(member.child, 'SIGKILL');
    await hook.close();
    await nc.drain();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Publishes the background and the probes in ticks of TICK_MS until stopped; `sent()` names every probe event. */
function steadyLoad(nc: NatsConnection, subjects: Subjects, probes: string[]) {
  const js = jetstreamClient(nc);
  const probeSeqs = new Map<string, number>();
  const sent: string[] = [];
  let ticks = 0;
  let stopped = false;
  const publish = (event: ReturnType<typeof sample>) =>
    js.publish(subjects.event(event.host, 'resource'), JSON.stringify(event), { msgID: event.id });
  const perTick = Math.round(HOSTS / (10_000 / TICK_MS));
  const loop = (async () => {
    while (!stopped) {
      const due = Date.now() + TICK_MS;
      const round = Math.floor(ticks / (10_000 / TICK_MS)) + 1;
      const slot = ticks % (10_000 / TICK_MS);
      const inflight: Promise<unknown>[] = [];
      for (let h = slot * perTick; h < (slot + 1) * perTick; h++) inflight.push(publish(sample(`host${h}`, round)));
      if (ticks % (PROBE_MS / TICK_MS) === 0)
        for (const host of probes) {
          const seq = (probeSeqs.get(host) ?? 0) + 1;
          probeSeqs.set(host, seq);
          sent.push(`${host} ${probeValue(seq)}`);
          inflight.push(
            publish(resourceSample(host, seq, [{ name: 'probe_flip', type: 'gauge', value: probeValue(seq) }])),
          );
        }
      await Promise.all(inflight);
      ticks++;
      // The load's pace, not a wait for an outcome.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
    }
  })();
  return {
    get ticks() {
      return ticks;
    },
    sent: () => [...sent],
    async until(condition: () => boolean): Promise<void> {
      while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    async stop(): Promise<void> {
      stopped = true;
      await loop;
    },
  };
}

/** When no partition is held by `victim` any more (every one taken by a survivor), by the leases in KV. */
async function takenOver(nc: NatsConnection, victim: string): Promise<number> {
  for (;;) {
    const held = await owners(nc, PREFIX);
    if (held.every((m) => m !== '' && m !== victim)) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every probe-rule transition on ALERTS as `status host generation`, duplicates kept. */
async function storedTransitions(nc: NatsConnection, subjects: Subjects): Promise<string[]> {
  const stream = streamNames(subjects).alerts;
  const { state } = await (await jetstreamManager(nc)).streams.info(stream);
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const keys: string[] = [];
  for (let read = 0; read < state.messages; ) {
    const batch = await consumer.fetch({ max_messages: Math.min(1000, state.messages - read), expires: 5000 });
    for await (const msg of batch as AsyncIterable<JsMsg>) {
      read++;
      const alert = Alert.parse(msg.json());
      if (alert.rule === 'probe') keys.push(`${alert.status} ${alert.host} g${alert.generation}`);
      if (msg.seq === state.last_seq) read = state.messages;
    }
  }
  return keys;
}
