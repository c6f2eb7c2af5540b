import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import { bucketName, ManualClock } from '../../../shared/index.ts';
import { makeAlert, metricValue } from './helpers.ts';
import { until } from '../../helpers/wait.ts';
import { alertsIn, hook, useDispatcherFixture } from './dispatcher-fixture.ts';

describe('notifiers: dispatcher queue: rate limit, groups, full queue, stop (real nats-server and receivers)', () => {
  const fx = useDispatcherFixture();
  const { sink, dispatcher } = fx;

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
      async () =>
        (await metricValue(fx.registry, 'offhook_notifications_rate_limited_total', { receiver: 'ops' })) === 3,
      'three held alerts',
    );
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit');
    assert.equal(s.requests.length, 1);
    assert.equal(await metricValue(fx.registry, 'offhook_notification_queue_depth', { receiver: 'ops' }), 3);
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
    const sends = () => metricValue(fx.registry, 'offhook_notifications_total', sent);
    d.submit(makeAlert({ rule: 'a' }), 'firing');
    // Once counted as sent, the send's timeout timer is gone: the one timer left is the rate limit's.
    await until(async () => (await sends()) === 1, 'the first send');
    // 16 alerts of two rules, interleaved, all held by the rate limit: two POSTs of 8, one per group.
    for (let i = 0; i < 16; i++) d.submit(makeAlert({ rule: i % 2 ? 'c' : 'b', host: `web${i}` }), 'firing');
    await until(() => clock.pendingTimers() === 1, 'the queue to wait for the limit');
    await until(
      async () => (await metricValue(fx.registry, 'offhook_notification_queue_depth', { receiver: 'ops' })) === 16,
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
    const kv = await new Kvm(fx.nc).open(bucketName(fx.subjects, 'nflog'));
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
        (await metricValue(fx.registry, 'offhook_notifications_dropped_total', {
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
      await metricValue(fx.registry, 'offhook_notifications_total', {
        receiver: 'dead',
        kind: 'webhook',
        outcome: 'failed',
      }),
      1,
    );
    assert.equal(
      await metricValue(fx.registry, 'offhook_notifications_dropped_total', { receiver: 'dead', reason: 'shutdown' }),
      1,
    );
    d.submit(makeAlert({ rule: 'late' }), 'firing');
    assert.equal(
      await metricValue(fx.registry, 'offhook_notifications_dropped_total', { receiver: '', reason: 'shutdown' }),
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
    const kv = await new Kvm(fx.nc).open(bucketName(fx.subjects, 'nflog'));
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
