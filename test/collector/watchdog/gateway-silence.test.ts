import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  createRegistry,
  fingerprint,
  streamNames,
  Subjects,
  type AlertmanagerAlertJson,
} from '../../../shared/index.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { startTestGateway, type TestGateway } from '../../telephony-gateway/harness.ts';
import { HttpSink, metricValue } from '../notify/helpers.ts';
import { until } from '../nats-harness.ts';

describe('collector watchdog: a silent telephony gateway reaches a person through the notifiers', function () {
  this.timeout(60_000);
  const bed = useCollectorBed();
  const { server } = bed;
  let webhook: HttpSink;
  let gw: TestGateway | undefined;

  before(async () => {
    webhook = await HttpSink.start();
  });
  after(async () => {
    await gw?.stop();
    await webhook.close();
  });

  const received = (): AlertmanagerAlertJson[] =>
    webhook.requests.flatMap((r) => (JSON.parse(r.body) as { alerts: AlertmanagerAlertJson[] }).alerts);
  const metric = (name: string): Promise<number> => metricValue(registry, name, {});
  let registry = createRegistry('collector');

  it('fires gateway_silent (critical, never on ALERTS) for a stopped gateway, resolved when heard again', async () => {
    registry = createRegistry('collector');
    const collector = await bed.start(
      CollectorConfig.parse({
        nats: { servers: [server.url] },
        listen: '127.0.0.1:0',
        evaluation_interval: '100ms',
        watchdog: { member: 'c1', heartbeat_interval: '100ms', canary_interval: '0s', gateway_silence: '1s' },
        notifications: {
          receivers: [{ name: 'ops', kind: 'webhook', url: webhook.url, rate_limit: { max: 100, per: '1m' } }],
          routes: [{ receiver: 'ops' }],
        },
      }),
      { registry },
    );
    const gatewayConfig = { watchdog: { enabled: false, heartbeat_interval: '200ms' } };
    gw = await startTestGateway(server, gatewayConfig, 'offhook');
    const beats = (): Promise<number> => metric('offhook_collector_gateway_heartbeats_total');
    await until(async () => (await beats()) >= 3, 'gateway heartbeats at the collector');
    assert.equal(webhook.requests.length, 0);

    await gw.stop();
    gw = undefined;
    await webhook.waitFor(1);
    const [fired] = received();
    const { status, labels } = fired!;
    const seen = [status, labels.alertname, labels.host, labels.severity];
    assert.deepEqual(seen, ['firing', 'gateway_silent', 'gw1', 'critical']);
    assert.match(fired!.annotations.summary!, /^gw1: the telephony gateway has not been heard for \d+ s; nobody/);
    assert.equal(collector.engine.records.get(fingerprint('gw1', 'gateway_silent'))?.alert.ruleKind, 'external');
    assert.equal(await metric('offhook_collector_gateways_silent'), 1);
    const alerts = await (await jetstreamManager(bed.nc)).streams.info(streamNames(new Subjects()).alerts);
    assert.equal(alerts.state.messages, 0, 'the gateway would be asked to phone about itself');

    gw = await startTestGateway(server, gatewayConfig, 'offhook');
    await webhook.waitFor(2);
    const told = received().map((a) => `${a.status} ${a.labels.alertname}`);
    assert.deepEqual(told, ['firing gateway_silent', 'resolved gateway_silent']);
    await until(async () => (await metric('offhook_collector_gateways_silent')) === 0, 'the gauge back at 0');
  });
});
