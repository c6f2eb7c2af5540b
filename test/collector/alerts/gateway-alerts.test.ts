import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  createRegistry,
  fingerprint,
  GatewayEvent,
  jetstreamClient,
  ManualClock,
  newId,
  publishDurable,
  streamNames,
  Subjects,
  type AlertmanagerAlertJson,
} from '../../../shared/index.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { HttpSink, metricValue } from '../notify/helpers.ts';
import { until } from '../nats-harness.ts';

const subjects = new Subjects();
const MINUTE = 60_000;

describe("collector: the telephony gateway's own trouble reaches a person through the notifiers", () => {
  const bed = useCollectorBed();
  const { server } = bed;
  let webhook: HttpSink;
  before(async () => {
    webhook = await HttpSink.start();
  });
  after(async () => {
    await webhook.close();
  });

  const alertsIn = (index: number): AlertmanagerAlertJson[] =>
    (JSON.parse(webhook.requests[index]!.body) as { alerts: AlertmanagerAlertJson[] }).alerts;

  it('line_down: critical gateway_line_down (not on ALERTS) till quiet; budget_exhausted till its window', async () => {
    const clock = new ManualClock(Date.now());
    const config = CollectorConfig.parse({
      nats: { servers: [server.url] },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      gateway_alerts: { line_down_quiet_period: '10m' },
      // The test clock jumps by hours: the watchdog canary would land on ALERTS, which must stay empty here.
      watchdog: { canary_interval: '0s' },
      notifications: {
        receivers: [{ name: 'ops', kind: 'webhook', url: webhook.url, rate_limit: { max: 100, per: '1m' } }],
        routes: [{ receiver: 'ops' }],
      },
    });
    let registry = createRegistry('collector');
    let collector = await bed.start(config, { registry, clock });
    // The webhook's timeout runs on the test clock: time only moves once the receiver's answer is taken in.
    let sentBefore = 0;
    const delivered = async (count: number): Promise<void> => {
      await webhook.waitFor(count);
      await until(
        async () =>
          sentBefore +
            (await metricValue(registry, 'offhook_notifications_total', { receiver: 'ops', outcome: 'sent' })) >=
          count,
        `${count} notifications delivered`,
      );
    };
    const js = jetstreamClient(bed.nc);
    // Published exactly as telephony-gateway/status/publisher.ts does: a durable publish into the GATEWAY stream.
    const gatewayEvent = (fields: Partial<GatewayEvent>) =>
      publishDurable(
        js,
        subjects.gatewayEvent('gw1'),
        GatewayEvent.parse({ v: 1, id: newId(), host: 'gw1', ts: clock.now(), ...fields }),
      );

    await gatewayEvent({ kind: 'line_down', detail: 'no dial tone', fingerprints: ['0123456789abcdef'] });
    await delivered(1);
    const [fired] = alertsIn(0);
    assert.equal(fired!.status, 'firing');
    assert.deepEqual(
      [fired!.labels.alertname, fired!.labels.host, fired!.labels.severity],
      ['gateway_line_down', 'gw1', 'critical'],
    );
    assert.match(fired!.annotations.summary!, /gw1: the telephony gateway's phone line is down \(no dial tone\); /);
    assert.match(fired!.annotations.summary!, /\(no dial tone\); no calls can be made; 1 alert could not be phoned/);
    const fp = fingerprint('gw1', 'gateway_line_down', {});
    assert.equal(collector.engine.records.get(fp)?.alert.ruleKind, 'external');

    // The line fails again five minutes later: still one alert, its quiet period starts over.
    clock.advance(5 * MINUTE);
    const again = clock.now();
    await gatewayEvent({ kind: 'line_down', detail: 'no dial tone' });
    await until(() => collector.engine.records.get(fp)?.alert.ts === again, 'the second line_down to be applied');
    clock.advance(9 * MINUTE);
    await collector.idle();
    assert.equal(
      collector.engine.records.get(fp)?.alert.status,
      'firing',
      'not resolved before a full quiet period since the last failure',
    );
    assert.equal(webhook.requests.length, 1);

    clock.advance(1 * MINUTE);
    await delivered(2);
    const [resolved] = alertsIn(1);
    assert.deepEqual([resolved!.status, resolved!.labels.alertname], ['resolved', 'gateway_line_down']);

    await gatewayEvent({ kind: 'budget_exhausted', limit: 'calls_per_hour', detail: 'alice: 6 of 6 calls this hour' });
    await delivered(3);
    const [spent] = alertsIn(2);
    assert.deepEqual(
      [spent!.status, spent!.labels.alertname, spent!.labels.severity, spent!.labels.limit],
      ['firing', 'gateway_budget_exhausted', 'warning', 'calls_per_hour'],
    );
    clock.advance(60 * MINUTE);
    await delivered(4);
    assert.deepEqual(
      [alertsIn(3)[0]!.status, alertsIn(3)[0]!.labels.alertname],
      ['resolved', 'gateway_budget_exhausted'],
    );

    // The phone is what is broken: nothing of this went to ALERTS, where the gateway would try to call.
    await collector.idle();
    const jsm = await jetstreamManager(bed.nc);
    assert.equal((await jsm.streams.info(streamNames(subjects).alerts)).state.messages, 0);

    // A collector restart keeps the record and does not resolve it as "rule removed from the configuration".
    await gatewayEvent({ kind: 'line_down', detail: 'card not found' });
    await delivered(5);
    await collector.stop();
    sentBefore = 5;
    registry = createRegistry('collector');
    collector = await bed.start(config, { registry, clock });
    assert.equal(collector.engine.records.get(fp)?.alert.status, 'firing');
    assert.equal(collector.engine.records.get(fp)?.alert.generation, 2);
    clock.advance(10 * MINUTE);
    await delivered(6);
    assert.deepEqual([alertsIn(5)[0]!.status, alertsIn(5)[0]!.labels.alertname], ['resolved', 'gateway_line_down']);
    assert.equal(webhook.requests.length, 6, 'each transition told once');
  });

  it('a line that stays down is re-notified every repeat_interval, like any firing alert', async () => {
    const clock = new ManualClock(Date.now());
    const registry = createRegistry('collector');
    const config = CollectorConfig.parse({
      nats: { servers: [server.url] },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      defaults: { repeat_interval: '20m' },
      gateway_alerts: { line_down_quiet_period: '15m' },
      notifications: { receivers: [{ name: 'ops', kind: 'webhook', url: webhook.url }], routes: [{ receiver: 'ops' }] },
    });
    const collector = await bed.start(config, { registry, clock });
    const first = webhook.requests.length;
    const delivered = async (count: number): Promise<void> => {
      await webhook.waitFor(first + count);
      await until(
        async () =>
          (await metricValue(registry, 'offhook_notifications_total', { receiver: 'ops', outcome: 'sent' })) >= count,
        `${count} notifications delivered`,
      );
    };
    const js = jetstreamClient(bed.nc);
    const lineDown = () =>
      publishDurable(
        js,
        subjects.gatewayEvent('gw2'),
        GatewayEvent.parse({
          v: 1,
          id: newId(),
          host: 'gw2',
          ts: clock.now(),
          kind: 'line_down',
          detail: 'no loop current',
        }),
      );
    const fp = fingerprint('gw2', 'gateway_line_down', {});

    await lineDown();
    await delivered(1);
    // Failures keep coming every 10 minutes: the alert stays up and is told again at 20 minutes.
    for (const minute of [10, 20]) {
      clock.advance(10 * MINUTE);
      const at = clock.now();
      await lineDown();
      await until(
        () => collector.engine.records.get(fp)?.alert.ts === at,
        `the line_down at minute ${minute} to be applied`,
      );
      clock.advance(1000);
    }
    await delivered(2);
    const [repeated] = alertsIn(first + 1);
    assert.deepEqual(
      [repeated!.status, repeated!.labels.alertname, repeated!.labels.host],
      ['firing', 'gateway_line_down', 'gw2'],
    );
    clock.advance(15 * MINUTE);
    await delivered(3);
    assert.equal(alertsIn(first + 2)[0]!.status, 'resolved');
    assert.equal(webhook.requests.length, first + 3);
  });
});
