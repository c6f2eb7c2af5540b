import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Alert, streamNames, Subjects } from '../../../shared/index.ts';
import { killAndWait } from '../../../deploy/lib/processes.ts';
import { copiesOf, webhookReceiver, type ReceivedAlert } from '../../../deploy/lib/webhook-receiver.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { until, untilPolled } from '../../helpers/wait.ts';
import { balanced, eventSender, hostsHeldBy, leaseOwners, startMember, type Member } from './group-helpers.ts';

const HOSTS = Array.from({ length: 12 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`);
const LEASE_TIMEOUT_MS = 3000;
/** Every host sends one event per tick: 12 hosts × 5/s = 60 events/s, steady through the kill. */
const TICK_MS = 200;
/** Ticks after the survivors have evaluated the victim's hosts again, so the load runs past the takeover. */
const TICKS_AFTER_RESUME = 10;

/**
 * The value of a host's event `seq` on the `toggle` metric: above 90 (fires) for odd, below (resolves) for even, and
 * unique, so the notification it causes names it (the webhook's `value` annotation is the value that decided).
 */
const toggleValue = (seq: number): number => (seq % 2 === 1 ? 100 + seq : -seq);

/**
 * Failover under steady load, single nats-server (the three-node cluster takes minutes to start on this 2-core
 * machine; test/deploy/collector-group-cluster.test.ts covers the cluster without steady load). Three real collectors,
 * one publisher at a steady rate, the member holding the most hosts killed -9 in the middle. Every event of the
 * `toggle` rule is one alert transition, so the webhook and the ALERTS stream account for every event: none lost,
 * none notified twice by two decisions, none stored twice. Delivery across a kill -9 is at-least-once: a notification
 * the victim POSTed just before it died, its "sent" record not yet written, is resent by the member resuming its
 * pending entry, under the same idempotency key; such resends are reported and must each be a logged resume. Two
 * copies under different keys are two decisions to notify one transition: that fails the test. The time until the
 * victim's hosts are evaluated again is reported, not asserted.
 */
describe('collector group: kill -9 under steady load (single nats-server)', function () {
  this.timeout(180_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  const members: Member[] = [];
  const figures: string[] = [];

  before(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-group-load-'));
    hook = await webhookReceiver();
  });
  after(async () => {
    for (const m of members) if (m.child.exitCode === null) await killAndWait(m.child, 'SIGKILL');
    await hook?.close();
    await nc?.drain();
    if (figures.length > 0) process.stdout.write(`      ${figures.join('\n      ')}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The event a webhook notification is about, by the value that decided it. */
  const eventKey = (host: string, seq: number): string => `${host} ${toggleValue(seq)}`;
  const notifiedKey = (a: ReceivedAlert): string => `${a.host} ${a.annotations.value}`;

  it('0 events lost, 0 alerts lost, 0 notifications decided twice; evaluation resumes after the lease', async () => {
    for (const name of ['c1', 'c2', 'c3'])
      members.push(await startMember(dir, server.url, hook.url, name, { leaseTimeout: `${LEASE_TIMEOUT_MS}ms` }));
    await until(async () => balanced(await leaseOwners(nc), ['c1', 'c2', 'c3']), 'leases balanced', 60_000);

    const send = eventSender(nc);
    const sent: { host: string; seq: number }[] = [];
    const seqs = new Map<string, number>();
    let stop = false;
    const toggles = (): ReceivedAlert[] => hook.alerts.filter((a) => a.alertname === 'toggle');
    const load = (async () => {
      while (!stop) {
        const due = Date.now() + TICK_MS;
        await Promise.all(
          HOSTS.map(async (host) => {
            const seq = (seqs.get(host) ?? 0) + 1;
            seqs.set(host, seq);
            sent.push({ host, seq });
            // eventSender numbers the host's events itself, in the same order: its seq is this one.
            await send(host, 'toggle', toggleValue(seq));
          }),
        );
        // The load's pace, not a wait for an outcome.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      }
    })();

    // Every host notified a few times before the kill: the group is evaluating under load.
    await until(() => HOSTS.every((h) => toggles().filter((a) => a.host === h).length >= 10), 'load flowing', 60_000);
    const owners = await leaseOwners(nc);
    const victim = [...members].sort(
      (a, b) => hostsHeldBy(HOSTS, owners, b.name).length - hostsHeldBy(HOSTS, owners, a.name).length,
    )[0]!;
    const victimHosts = hostsHeldBy(HOSTS, owners, victim.name);
    assert.ok(victimHosts.length > 0, 'the victim evaluates some hosts');
    const sentBeforeKill = new Set(sent.map((e) => eventKey(e.host, e.seq)));
    const killedAt = Date.now();
    await killAndWait(victim.child, 'SIGKILL');
    const survivors = members.filter((m) => m !== victim).map((m) => m.name);

    // Evaluation resumed: a victim host's notification about an event sent after the kill.
    const resumedNote = (): ReceivedAlert | undefined =>
      toggles().find((a) => victimHosts.includes(a.host) && !sentBeforeKill.has(notifiedKey(a)));
    await until(() => resumedNote() !== undefined, 'the victim hosts evaluated again', 60_000);
    const resumedMs = resumedNote()!.at - killedAt;
    await until(async () => balanced(await leaseOwners(nc), survivors), 'survivors hold every partition', 60_000);
    const ticksThen = seqs.get(HOSTS[0]!) ?? 0;
    await until(() => (seqs.get(HOSTS[0]!) ?? 0) >= ticksThen + TICKS_AFTER_RESUME, 'load past the takeover', 60_000);
    stop = true;
    await load;

    // Every event sent is one notification (by host and event time), and arrives.
    const expected = new Set(sent.map((e) => eventKey(e.host, e.seq)));
    const notified = (): Set<string> => new Set(toggles().map(notifiedKey));
    // As many distinct notifications as events; which ones they are is checked below, with the lists on failure.
    await untilPolled(() => notified().size >= expected.size, 'a notification for every event', 90_000, 100).catch(
      (err: unknown) => {
        // OFFHOOK_GROUP_DUMP=<dir>: what was sent and heard, and every member's log, for the post-mortem.
        const dump = process.env.OFFHOOK_GROUP_DUMP;
        const logs = Object.fromEntries(members.map((m) => [m.name, m.output()]));
        if (dump) writeFileSync(join(dump, 'steady-load.json'), JSON.stringify({ sent, heard: toggles(), logs }));
        throw err;
      },
    );
    const lost = [...expected].filter((k) => !notified().has(k));
    const copies = copiesOf(toggles(), (a) => `${a.status} ${notifiedKey(a)}`);
    // The notification-log keys members logged as resumed from the pending log (the victim's, taken over).
    const resumedLogKeys = new Set(
      members.flatMap((m) =>
        [...m.output().matchAll(/"key":"([^"]+)"[^\n]*resuming a notification accepted/g)].map((r) => r[1]!),
      ),
    );
    // An idempotency key is `<notification-log key>/<acceptance id>`.
    const notResumed = copies.resentKeys.filter((k) => !resumedLogKeys.has(k.slice(0, k.lastIndexOf('/'))));
    const stray = [...notified()].filter((k) => !expected.has(k));

    // The ALERTS stream: one firing and one resolved per generation, each stored once.
    const stored = await storedToggleAlerts();
    const storedKeys = stored.map((a) => `${a.status} ${a.host} g${a.generation}`);
    const storedTwice = storedKeys.filter((k, i) => storedKeys.indexOf(k) !== i);
    const expectedAlerts = HOSTS.reduce((n, h) => n + (seqs.get(h) ?? 0), 0);

    figures.push(
      `steady load ${(HOSTS.length * 1000) / TICK_MS} events/s, ${sent.length} events; kill -9 of ${victim.name} ` +
        `(${victimHosts.length}/${HOSTS.length} hosts) → evaluation resumed after ${resumedMs} ms ` +
        `(lease_timeout ${LEASE_TIMEOUT_MS} ms; bound lease_timeout + 2 s = ${LEASE_TIMEOUT_MS + 2000} ms)`,
      `lost events ${lost.length}, duplicate notifications (two decisions) ${copies.twice.length}, resent ` +
        `(same key, at-least-once) ${copies.resent.length}, stray ${stray.length}; ALERTS stored ` +
        `${new Set(storedKeys).size}/${expectedAlerts} transitions, ${storedTwice.length} twice`,
    );
    assert.deepEqual(lost.slice(0, 10), [], `no event lost: each is one notification (${lost.length} lost)`);
    assert.equal(copies.unkeyed, 0, 'every notification carries its idempotency key');
    assert.deepEqual(copies.twice, [], 'no transition notified under two keys (two decisions)');
    assert.deepEqual(notResumed, [], 'a same-key resend only of a notification resumed from the pending log');
    assert.deepEqual(stray.slice(0, 10), [], `no notification about an event never sent (${stray.length})`);
    assert.equal(new Set(storedKeys).size, expectedAlerts, 'every transition on ALERTS');
    assert.deepEqual(storedTwice, [], 'ALERTS stored each transition once');
  });

  /** Every `toggle` alert in the ALERTS stream, in stream order (duplicates kept, to be counted). */
  async function storedToggleAlerts(): Promise<Alert[]> {
    const stream = streamNames(new Subjects()).alerts;
    const { state } = await (await jetstreamManager(nc)).streams.info(stream);
    const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const alerts: Alert[] = [];
    for (let read = 0; read < state.messages; ) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, state.messages - read), expires: 5000 });
      for await (const msg of batch as AsyncIterable<JsMsg>) {
        read++;
        const alert = Alert.parse(msg.json());
        if (alert.rule === 'toggle') alerts.push(alert);
        if (msg.seq === state.last_seq) read = state.messages;
      }
    }
    return alerts;
  }
});
