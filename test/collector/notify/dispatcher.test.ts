import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  bucketName,
  createLogger,
  ensureStreams,
  createRegistry,
  ManualClock,
  newId,
  serveHttp,
  silentLogger,
  Subjects,
  type Clock,
  type Registry,
} from '../../../shared/index.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { createDispatcher, type NotificationDispatcher } from '../../../collector/notify/index.ts';
import { NotificationLog } from '../../../collector/notify/nflog.ts';
import { connectTo, startNatsServer, type EmbeddedNatsServer } from '../../helpers/nats-server.ts';
import { HttpSink, makeAlert, metricValue, resolvedCopy } from './helpers.ts';

/** Waits for a condition the code under test will reach; the bound is a failure, never a pacing. */
async function until(condition: () => boolean | Promise<boolean>, what: string, boundMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > boundMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('notifiers: dispatcher (real nats-server, real HTTP receivers)', () => {
  let server: EmbeddedNatsServer;
  let nc: NatsConnection;
  let sinks: HttpSink[] = [];
  let dispatchers: NotificationDispatcher[] = [];
  let subjects: Subjects;
  let registry: Registry;

  before(async () => {
    server = await startNatsServer();
    nc = await connectTo(server);
  });
  after(async () => {
    await nc.drain();
    await server.dispose();
  });
  beforeEach(() => {
    subjects = new Subjects(
      `t${newId()
        .replace(/[^a-z0-9]/g, '')
        .slice(-10)}`,
    );
    registry = createRegistry('collector');
  });
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.close()));
    await Promise.all(sinks.map((s) => s.close()));
    dispatchers = [];
    sinks = [];
  });

  async function sink(): Promise<HttpSink> {
    const s = await HttpSink.start();
    sinks.push(s);
    return s;
  }
  async function dispatcher(config: unknown, clock?: Clock): Promise<NotificationDispatcher> {
    await ensureStreams(nc, subjects);
    const d = await createDispatcher(NotificationsConfig.parse(config) as NotificationsConfig, {
      nc,
      subjects,
      logger: process.env.TEST_LOG ? createLogger('t') : silentLogger(),
      registry,
      ...(clock ? { clock } : {}),
    });
    dispatchers.push(d);
    return d;
  }
  const hook = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
    name,
    kind: 'webhook',
    url,
    retry: { initial_backoff: '10ms', max_backoff: '20ms' },
    ...extra,
  });
  const alertsIn = (s: HttpSink) =>
    s.requests.flatMap((r) => JSON.parse(r.body).alerts as { fingerprint: string; status: string }[]);

  it('routes by severity and labels: first match wins unless continue', async () => {
    const [pager, team, rest] = [await sink(), await sink(), await sink()];
    const d = await dispatcher({
      receivers: [hook('pager', pager.url), hook('team', team.url), hook('rest', rest.url)],
      routes: [
        { receiver: 'pager', match: { severity: 'critical' }, continue: true },
        { receiver: 'team', match: { labels: { team: { regex: 'db|web' } } } },
        { receiver: 'rest' },
      ],
    });
    const critical = makeAlert({ labels: { team: 'web' } });
    const warning = makeAlert({ severity: 'warning', rule: 'load', labels: { team: 'db' } });
    const other = makeAlert({ severity: 'info', rule: 'misc', labels: { team: 'dbx' } });
    for (const a of [critical, warning, other]) d.submit(a, 'firing');
    await d.idle();
    assert.deepEqual(
      alertsIn(pager).map((a) => a.fingerprint),
      [critical.fingerprint],
    );
    assert.deepEqual(
      alertsIn(team)
        .map((a) => a.fingerprint)
        .sort(),
      [critical.fingerprint, warning.fingerprint].sort(),
    );
    assert.deepEqual(
      alertsIn(rest).map((a) => a.fingerprint),
      [other.fingerprint],
    );
  });

  it('never re-sends what the notification log says was sent, across a restart', async () => {
    const s = await sink();
    const config = { receivers: [hook('ops', s.url)], routes: [{ receiver: 'ops' }] };
    const alert = makeAlert();
    const first = await dispatcher(config);
    first.submit(alert, 'firing');
    first.submit(alert, 'firing'); // duplicate while in flight
    await first.idle();
    await first.close();
    assert.equal(s.requests.length, 1);

    const restarted = await dispatcher(config);
    restarted.submit(alert, 'firing'); // the replay after restart
    restarted.submit(resolvedCopy(alert), 'resolved');
    restarted.submit(resolvedCopy(alert), 'resolved');
    await restarted.idle();
    assert.deepEqual(
      alertsIn(s).map((a) => a.status),
      ['firing', 'resolved'],
    );
    assert.equal(await metricValue(registry, 'offhook_notifications_deduplicated_total', { receiver: 'ops' }), 3);
    // The replayed firing was looked up and marked pending side by side; the log already held it, so its pending
    // entry is gone again (nothing for a later run to resume).
    const nflog = new NotificationLog(await new Kvm(nc).open(bucketName(subjects, 'nflog')));
    assert.deepEqual(await nflog.pending(), []);

    // A new generation (the alert re-fired) is a new notification.
    restarted.submit({ ...alert, generation: 2 }, 'firing');
    await restarted.idle();
    assert.equal(s.requests.length, 3);
  });

  it('sends a resolve only to receivers that were told the alert fired, and honours send_resolved', async () => {
    const [told, quiet] = [await sink(), await sink()];
    const d = await dispatcher({
      receivers: [hook('told', told.url), hook('quiet', quiet.url, { send_resolved: false })],
      routes: [{ receiver: 'told', match: { rule: 'disk_full' }, continue: true }, { receiver: 'quiet' }],
    });
    const neverAnnounced = makeAlert({ rule: 'other' });
    d.submit(resolvedCopy(neverAnnounced), 'resolved');
    const alert = makeAlert();
    d.submit(alert, 'firing');
    d.submit(resolvedCopy(alert), 'resolved');
    await d.idle();
    assert.deepEqual(
      alertsIn(told).map((a) => a.status),
      ['firing', 'resolved'],
    );
    assert.deepEqual(
      alertsIn(quiet).map((a) => a.status),
      ['firing'],
    );
  });

  it('repeats carry a counter: each repeat is sent once, an explicit counter already sent is not', async () => {
    const s = await sink();
    const d = await dispatcher({ receivers: [hook('ops', s.url)], routes: [{ receiver: 'ops' }] });
    const alert = makeAlert();
    d.submit(alert, 'firing');
    d.submit(alert, 'repeat');
    d.submit(alert, 'repeat');
    d.submit(alert, 'repeat', { repeat: 2 });
    d.submit({ ...alert, acknowledged: true }, 'repeat');
    d.submit({ ...alert, inhibited: true, rule: 'inhibited', fingerprint: 'aaaaaaaaaaaaaaaa' }, 'firing');
    await d.idle();
    assert.equal(s.requests.length, 3);
    assert.equal(
      await metricValue(registry, 'offhook_notifications_dropped_total', { receiver: 'ops', reason: 'acknowledged' }),
      1,
    );
    assert.equal(
      await metricValue(registry, 'offhook_notifications_dropped_total', { receiver: 'ops', reason: 'inhibited' }),
      1,
    );
  });

  it('retries only what the notifier calls retryable, with backoff, and counts outcomes', async () => {
    const [flaky, broken] = [await sink(), await sink()];
    flaky.respond = (_req, index) => (index < 2 ? 503 : 200);
    broken.respond = () => 400;
    const d = await dispatcher({
      receivers: [hook('flaky', flaky.url), hook('broken', broken.url)],
      routes: [{ receiver: 'flaky', continue: true }, { receiver: 'broken' }],
    });
    d.submit(makeAlert(), 'firing');
    await d.idle();
    assert.equal(flaky.requests.length, 3);
    assert.equal(broken.requests.length, 1);
    assert.equal(
      await metricValue(registry, 'offhook_notifications_total', {
        receiver: 'flaky',
        kind: 'webhook',
        outcome: 'sent',
      }),
      1,
    );
    assert.equal(
      await metricValue(registry, 'offhook_notification_attempts_total', { receiver: 'flaky', outcome: 'retryable' }),
      2,
    );
    assert.equal(
      await metricValue(registry, 'offhook_notifications_total', {
        receiver: 'broken',
        kind: 'webhook',
        outcome: 'failed',
      }),
      1,
    );
    const endpoint = await serveHttp('127.0.0.1:0', registry);
    const text = await (await fetch(`${endpoint.url}/metrics`)).text();
    await endpoint.close();
    assert.match(text, /offhook_notifications_total\{receiver="flaky",kind="webhook",outcome="sent"[^}]*\} 1/);
    assert.match(text, /offhook_notifications_total\{receiver="broken",kind="webhook",outcome="failed"[^}]*\} 1/);
    assert.match(text, /offhook_notification_duration_seconds_count\{[^}]*receiver="flaky"/);
    assert.match(text, /offhook_notification_queue_depth\{[^}]*receiver="broken"[^}]*\} 0/);
  });

  it('gives up after max_attempts and lets a later submit try again', async () => {
    const s = await sink();
    s.respond = (_req, index) => (index < 2 ? 500 : 200);
    const d = await dispatcher({
      receivers: [hook('ops', s.url, { retry: { max_attempts: 2, initial_backoff: '10ms' } })],
      routes: [{ receiver: 'ops' }],
    });
    const alert = makeAlert();
    d.submit(alert, 'firing');
    await d.idle();
    assert.equal(
      await metricValue(registry, 'offhook_notifications_total', {
        receiver: 'ops',
        kind: 'webhook',
        outcome: 'failed',
      }),
      1,
    );
    d.submit(alert, 'firing');
    await d.idle();
    assert.equal(s.requests.length, 3);
    assert.equal(
      await metricValue(registry, 'offhook_notifications_total', { receiver: 'ops', kind: 'webhook', outcome: 'sent' }),
      1,
    );
  });

  it('a hanging receiver times out and never delays another receiver', async () => {
    const [dead, alive] = [await sink(), await sink()];
    dead.respond = () => 'hang';
    const d = await dispatcher({
      receivers: [hook('dead', dead.url, { timeout: '300ms', retry: { max_attempts: 1 } }), hook('alive', alive.url)],
      routes: [{ receiver: 'dead', continue: true }, { receiver: 'alive' }],
    });
    d.submit(makeAlert(), 'firing');
    d.submit(makeAlert({ rule: 'second' }), 'firing');
    await dead.waitFor(1);
    await alive.waitFor(1);
    // The dead receiver is still hanging on its first request while the live one got its notifications.
    assert.equal(dead.requests.length, 1);
    await d.idle();
    assert.equal(
      await metricValue(registry, 'offhook_notification_attempts_total', { receiver: 'dead', outcome: 'timeout' }),
      2,
    );
    assert.equal(alertsIn(alive).length, 2);
  });

  it('rate limit: the excess waits, is counted, and goes out coalesced in one notification', async () => {
    const clock = new ManualClock();
    const s = await sink();
    const d = await dispatcher(
      { receivers: [hook('ops', s.url, { rate_limit: { max: 1, per: '1h' } })], routes: [{ receiver: 'ops' }] },
      clock,
    );
    d.submit(makeAlert({ rule: 'a' }), 'firing');
    await s.waitFor(1);
    for (const rule of ['b', 'c', 'd']) d.submit(makeAlert({ rule }), 'firing');
    await until(
      async () => (await metricValue(registry, 'offhook_notifications_rate_limited_total', { receiver: 'ops' })) === 3,
      'three held alerts',
    );
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit');
    assert.equal(s.requests.length, 1);
    assert.equal(await metricValue(registry, 'offhook_notification_queue_depth', { receiver: 'ops' }), 3);
    clock.advance(3_600_000);
    await s.waitFor(2);
    assert.equal(JSON.parse(s.requests[1]!.body).alerts.length, 3);
    await d.idle();
  });

  it("group_by: the queue coalesces only one group's alerts; each POST carries its groupKey", async () => {
    const clock = new ManualClock();
    const s = await sink();
    const route = { receiver: 'ops', match: { severity: 'critical' }, group_by: ['alertname'] };
    const d = await dispatcher(
      { receivers: [hook('ops', s.url, { rate_limit: { max: 1, per: '1h' } })], routes: [route] },
      clock,
    );
    const sent = { receiver: 'ops', kind: 'webhook', outcome: 'sent' };
    const sends = () => metricValue(registry, 'offhook_notifications_total', sent);
    d.submit(makeAlert({ rule: 'a' }), 'firing');
    // Once counted as sent, the send's timeout timer is gone: the one timer left is the rate limit's.
    await until(async () => (await sends()) === 1, 'the first send');
    // 16 alerts of two rules, interleaved, all held by the rate limit: two POSTs of 8, one per group.
    for (let i = 0; i < 16; i++) d.submit(makeAlert({ rule: i % 2 ? 'c' : 'b', host: `web${i}` }), 'firing');
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit');
    await until(
      async () => (await metricValue(registry, 'offhook_notification_queue_depth', { receiver: 'ops' })) === 16,
      'sixteen queued alerts',
    );
    clock.advance(3_600_000);
    await until(async () => (await sends()) === 2, 'the second send');
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit again');
    clock.advance(3_600_000);
    await s.waitFor(3);
    await d.idle();
    const posts = s.requests.map((r) => JSON.parse(r.body) as Record<string, unknown> & { alerts: unknown[] });
    assert.deepEqual(
      posts.map((p) => [p.groupKey, p.groupLabels, p.alerts.length]),
      [
        ['{}/{severity="critical"}:{alertname="a"}', { alertname: 'a' }, 1],
        ['{}/{severity="critical"}:{alertname="b"}', { alertname: 'b' }, 8],
        ['{}/{severity="critical"}:{alertname="c"}', { alertname: 'c' }, 8],
      ],
    );
  });

  it('group_wait: 16 alerts wait durably for their groups, survive a stop, and go as one POST per group', async () => {
    const clock = new ManualClock();
    const s = await sink();
    const config = {
      receivers: [hook('ops', s.url)],
      routes: [{ receiver: 'ops', matchers: ['severity="critical"'], group_by: ['alertname'], group_wait: '30s' }],
    };
    const first = await dispatcher(config, clock);
    const alerts = Array.from({ length: 16 }, (_, i) => makeAlert({ rule: i % 2 ? 'c' : 'b', host: `web${i}` }));
    for (const alert of alerts) await first.submit(alert, 'firing'); // each durably accepted before it waits
    const kv = await new Kvm(nc).open(bucketName(subjects, 'nflog'));
    for (const alert of alerts) assert.ok(await kv.get(`pending.${alert.fingerprint}.1.ops.firing`));
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for its groups');
    assert.equal(s.requests.length, 0, 'nothing sent before group_wait');
    await first.close(0); // stops while the groups wait, like a kill: the alerts stay pending

    const second = await dispatcher(config, clock); // resumes the pending alerts, grouped again
    await until(() => clock.pendingTimers() === 1, 'the resumed alerts to wait for their groups');
    clock.advance(30_000);
    await s.waitFor(2);
    await second.idle();
    const posts = s.requests.map((r) => JSON.parse(r.body) as { groupKey: string; alerts: unknown[] });
    assert.deepEqual(posts.map((p) => [p.groupKey, p.alerts.length]).sort(), [
      ['{}/{severity="critical"}:{alertname="b"}', 8],
      ['{}/{severity="critical"}:{alertname="c"}', 8],
    ]);
    // As in Alertmanager, an alert that started group_wait ago already does not wait (nor does its group).
    const old = makeAlert({ rule: 'old', startsAt: clock.now() - 60_000 });
    await second.submit(old, 'firing');
    await s.waitFor(3);
    assert.equal(JSON.parse(s.requests[2]!.body).groupKey, '{}/{severity="critical"}:{alertname="old"}');
  });

  it('a full queue drops the oldest alert, logged and counted', async () => {
    const clock = new ManualClock();
    const s = await sink();
    const d = await dispatcher(
      {
        receivers: [hook('ops', s.url, { rate_limit: { max: 1, per: '1h' }, max_queue: 2 })],
        routes: [{ receiver: 'ops' }],
      },
      clock,
    );
    d.submit(makeAlert({ rule: 'a' }), 'firing');
    await s.waitFor(1);
    for (const rule of ['b', 'c', 'd']) d.submit(makeAlert({ rule }), 'firing');
    await until(
      async () =>
        (await metricValue(registry, 'offhook_notifications_dropped_total', {
          receiver: 'ops',
          reason: 'queue_full',
        })) === 1,
      'the drop',
    );
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit');
    clock.advance(3_600_000);
    await s.waitFor(2);
    assert.deepEqual(
      JSON.parse(s.requests[1]!.body).alerts.map((a: { labels: { alertname: string } }) => a.labels.alertname),
      ['c', 'd'],
    );
  });

  it('close lets queued notifications go out, then aborts what is stuck', async () => {
    const [ok, dead] = [await sink(), await sink()];
    dead.respond = () => 'hang';
    const d = await dispatcher({
      receivers: [hook('ok', ok.url), hook('dead', dead.url, { timeout: '1h' })],
      routes: [{ receiver: 'ok', continue: true }, { receiver: 'dead' }],
    });
    d.submit(makeAlert(), 'firing');
    d.submit(makeAlert({ rule: 'queued-behind' }), 'firing');
    await dead.waitFor(1);
    await d.close(200);
    assert.equal(alertsIn(ok).length, 2, 'the healthy receiver got everything before close returned');
    assert.equal(
      await metricValue(registry, 'offhook_notifications_total', {
        receiver: 'dead',
        kind: 'webhook',
        outcome: 'failed',
      }),
      1,
    );
    assert.equal(
      await metricValue(registry, 'offhook_notifications_dropped_total', { receiver: 'dead', reason: 'shutdown' }),
      1,
    );
    d.submit(makeAlert({ rule: 'late' }), 'firing');
    assert.equal(
      await metricValue(registry, 'offhook_notifications_dropped_total', { receiver: '', reason: 'shutdown' }),
      1,
    );
  });

  it('what was accepted but not delivered when the collector stopped is sent by the next run, once', async () => {
    const [stuck, healthy] = [await sink(), await sink()];
    stuck.respond = () => 'hang';
    const alert = makeAlert();
    const first = await dispatcher({
      receivers: [hook('ops', stuck.url, { timeout: '1h' })],
      routes: [{ receiver: 'ops', group_by: ['alertname'] }],
    });
    await first.submit(alert, 'firing'); // resolves once durably accepted
    const kv = await new Kvm(nc).open(bucketName(subjects, 'nflog'));
    assert.ok(await kv.get(`pending.${alert.fingerprint}.1.ops.firing`), 'a pending entry exists before delivery');
    await stuck.waitFor(1);
    await first.close(0); // stops mid-delivery, like a kill between accepting and delivering

    const config = { receivers: [hook('ops', healthy.url)], routes: [{ receiver: 'ops' }] };
    const second = await dispatcher(config);
    await second.idle();
    assert.deepEqual(
      alertsIn(healthy).map((a) => a.fingerprint),
      [alert.fingerprint],
    );
    // The group rode in the pending entry: the resumed POST carries the group of the route that accepted it.
    assert.equal(JSON.parse(healthy.requests[0]!.body).groupKey, '{}/{}:{alertname="disk_full"}');
    assert.equal((await kv.get(`pending.${alert.fingerprint}.1.ops.firing`))?.operation, 'DEL');
    await second.close();

    const third = await dispatcher(config);
    third.submit(alert, 'firing');
    await third.idle();
    assert.equal(healthy.requests.length, 1, 'neither resumed nor re-sent again');
  });
});
