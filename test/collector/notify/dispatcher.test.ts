import assert from 'node:assert/strict';
import { Kvm } from '@nats-io/kv';
import { bucketName, serveHttp } from '../../../shared/index.ts';
import { NotificationLog } from '../../../collector/notify/nflog.ts';
import { makeAlert, metricValue, resolvedCopy } from './helpers.ts';
import { alertsIn, hook, useDispatcherFixture } from './dispatcher-fixture.ts';

describe('notifiers: dispatcher (real nats-server, real HTTP receivers)', () => {
  const fx = useDispatcherFixture();
  const { sink, dispatcher } = fx;

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
    assert.equal(await metricValue(fx.registry, 'offhook_notifications_deduplicated_total', { receiver: 'ops' }), 3);
    // The replayed firing was looked up and marked pending side by side; the log already held it, so its pending
    // entry is gone again (nothing for a later run to resume).
    const nflog = new NotificationLog(await new Kvm(fx.nc).open(bucketName(fx.subjects, 'nflog')));
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
      await metricValue(fx.registry, 'offhook_notifications_dropped_total', {
        receiver: 'ops',
        reason: 'acknowledged',
      }),
      1,
    );
    assert.equal(
      await metricValue(fx.registry, 'offhook_notifications_dropped_total', { receiver: 'ops', reason: 'inhibited' }),
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
      await metricValue(fx.registry, 'offhook_notifications_total', {
        receiver: 'flaky',
        kind: 'webhook',
        outcome: 'sent',
      }),
      1,
    );
    assert.equal(
      await metricValue(fx.registry, 'offhook_notification_attempts_total', {
        receiver: 'flaky',
        outcome: 'retryable',
      }),
      2,
    );
    assert.equal(
      await metricValue(fx.registry, 'offhook_notifications_total', {
        receiver: 'broken',
        kind: 'webhook',
        outcome: 'failed',
      }),
      1,
    );
    const endpoint = await serveHttp('127.0.0.1:0', fx.registry);
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
      await metricValue(fx.registry, 'offhook_notifications_total', {
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
      await metricValue(fx.registry, 'offhook_notifications_total', {
        receiver: 'ops',
        kind: 'webhook',
        outcome: 'sent',
      }),
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
      await metricValue(fx.registry, 'offhook_notification_attempts_total', { receiver: 'dead', outcome: 'timeout' }),
      2,
    );
    assert.equal(alertsIn(alive).length, 2);
  });
});
