import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import {
  Alert,
  bucketName,
  CANARY_RULE,
  fingerprint,
  jetstreamClient,
  newId,
  publishDurable,
  SCHEMA_VERSION,
  streamNames,
  Subjects,
  WATCHDOG_LABEL,
  type ResourceSample,
} from '../../../shared/index.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../../deploy/lib/processes.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { webhookReceiver } from '../../../deploy/lib/webhook-receiver.ts';
import { assertOneCallAtATime, startTestGateway, type TestGateway } from '../harness.ts';
import { acknowledged, dialled, nextChecks, playedFiles, spokenFile, watchdogInput } from './helpers.ts';

/** A real `offhook collector` process whose watchdog beats fast. */
type Config = Record<string, unknown>;

function collectorConfig(url: string, prefix: string, hookUrl: string, canaryInterval: string): Config {
  return {
    nats: { servers: [url], prefix },
    listen: '127.0.0.1:0',
    evaluation_interval: '100ms',
    defaults: { flapping: { enabled: false } },
    rules: [{ name: 'busy', kind: 'threshold', metric: 'wd_gauge', warn: 50 }],
    watchdog: { member: 'c1', heartbeat_interval: '100ms', canary_interval: canaryInterval, gateway_silence: '0s' },
    notifications: { receivers: [{ name: 'hook', kind: 'webhook', url: hookUrl }], routes: [{ receiver: 'hook' }] },
  };
}

describe('gateway watchdog with a real collector process', function () {
  this.timeout(90_000);
  const server = useNatsServer();
  let dir: string;
  let gw: TestGateway | null = null;
  let collector: OffhookProcess | null = null;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-wd-'));
  });
  beforeEach(async () => {
    hook = await webhookReceiver();
  });
  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    if (collector) await killAndWait(collector.child, 'SIGTERM');
    collector = null;
    await gw?.stop();
    gw = null;
    await hook.close();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls after collector_silence once the only collector is killed, and 1 acknowledges', async () => {
    const prefix = 'wdcoll1';
    collector = await startOffhook('collector', dir, 'collector1', collectorConfig(server.url, prefix, hook.url, '0s'));
    gw = await startTestGateway(server, { watchdog: watchdogInput({ collector: '1s' }) }, prefix);
    const watchdog = gw.gateway.watchdog;
    const fp = watchdog.incidentFingerprint;
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const beats = async (): Promise<number> => gw!.metric('offhook_gateway_watchdog_collector_heartbeats_total');
    await untilPolled(async () => (await beats()) >= 3, 'collector heartbeats at the gateway');
    assert.deepEqual((await nextChecks(watchdog, 2)).at(-1), [], 'a live collector covers the partition');
    assert.equal(await gw.metric('offhook_gateway_watchdog_collectors_live'), 1);
    assert.equal(gw.offHooks.length, 0);

    await killAndWait(collector.child, 'SIGKILL');
    collector = null;
    await gw.waitFor('the acknowledged watchdog call', acknowledged(gw, fp), 30_000);
    assert.deepEqual(dialled(gw.transcript()), ['100']);
    const spoken = await spokenFile('offhook is blind: no collector for less than a minute');
    assert.equal(playedFiles(gw.transcript())[0], spoken);
    await gw.waitFor('the DTMF ack on ACKS', () => gw!.acks.some((a) => a.fingerprint === fp && a.by === 'alice'));
    assert.equal(await gw.metric('offhook_gateway_watchdog_blind', { reason: 'collector' }), 1);
    assert.equal(watchdog.incidentState(), 'acknowledged');

    // A collector comes back: the incident clears.
    const cleared = new Promise((resolve) => watchdog.events.once('cleared', resolve));
    const again = collectorConfig(server.url, prefix, hook.url, '0s');
    collector = await startOffhook('collector', dir, 'collector1b', again);
    await cleared;
    assert.equal(gw.offHooks.filter((fps) => fps.includes(fp)).length, 1, 'one call for the one incident');
  });

  it('calls when the canary stops coming through while the collector still beats', async () => {
    const prefix = 'wdcanary1';
    // The collector's canary is off: heartbeats arrive, but nothing proves the ALERTS path to the gateway.
    collector = await startOffhook('collector', dir, 'collector2', collectorConfig(server.url, prefix, hook.url, '0s'));
    gw = await startTestGateway(server, { watchdog: watchdogInput({ collector: '5s', canary: '1s' }) }, prefix);
    const fp = gw.gateway.watchdog.incidentFingerprint;
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.waitFor('the acknowledged watchdog call', acknowledged(gw, fp), 30_000);
    const summary =
      'offhook is blind: no test alert came through for less than a minute, ' +
      'so the alert path from the rules to the phone is broken';
    const spoken = await spokenFile(summary);
    assert.equal(playedFiles(gw.transcript())[0], spoken, 'the canary reason alone: the collector is alive');
    assert.equal(await gw.metric('offhook_gateway_watchdog_blind', { reason: 'canary' }), 1);
    assert.equal(await gw.metric('offhook_gateway_watchdog_blind', { reason: 'collector' }), 0);
  });

  it('never calls about the canary and never sends it to a receiver, while a real alert is notified', async () => {
    const prefix = 'wdcanary2';
    const fastCanary = collectorConfig(server.url, prefix, hook.url, '200ms');
    collector = await startOffhook('collector', dir, 'collector3', fastCanary);
    // min_severity critical: the warning below must not ring either, so any call would be the canary's.
    const watchdog = watchdogInput({ collector: '5s', canary: '5s' });
    const input = { watchdog, escalation: { min_severity: 'critical' as const } };
    gw = await startTestGateway(server, input, prefix);
    const canaries = async (): Promise<number> => gw!.metric('offhook_gateway_watchdog_canaries_total');
    await untilPolled(async () => (await canaries()) >= 5, 'five canaries at the gateway', 30_000);

    // A real alert goes the same way after the canaries: once its notification is in, theirs would have been too.
    const sample: ResourceSample = {
      v: SCHEMA_VERSION,
      id: newId(),
      host: 'web1',
      ts: Date.now(),
      seq: 1,
      kind: 'resource',
      intervalMs: 1000,
      metrics: [{ name: 'wd_gauge', type: 'gauge', value: 99 }],
    };
    await publishDurable(jetstreamClient(gw.nc), new Subjects(prefix).event('web1', 'resource'), sample);
    await untilPolled(() => hook.alerts.some((a) => a.alertname === 'busy'), 'the real alert at the webhook', 30_000);

    const canaryFp = fingerprint('c1', CANARY_RULE, { [WATCHDOG_LABEL]: 'canary' });
    assert.deepEqual(
      hook.alerts.map((a) => a.alertname),
      ['busy'],
      'no canary at the receiver',
    );
    assert.equal(gw.handled.includes(canaryFp), false, 'the canary never reaches the call queue');
    assert.deepEqual(gw.offHooks, []);
    assert.equal(gw.transcript().length, 0, 'the line never went off hook');
    assert.equal(gw.gateway.watchdog.incidentState(), null);
    // The canaries really went over ALERTS, and never into the collector's alert state.
    const onStream = await alertsOnStream(gw, prefix, (a) => a.rule === CANARY_RULE);
    assert.ok(onStream >= 5, `${onStream} canaries on ALERTS`);
    const kv = await new Kvm(gw.nc).open(bucketName(new Subjects(prefix), 'alerts'));
    assert.equal(await kv.get(canaryFp), null);
  });
});

async function alertsOnStream(gw: TestGateway, prefix: string, match: (alert: Alert) => boolean): Promise<number> {
  const stream = streamNames(new Subjects(prefix)).alerts;
  const consumer = await jetstream(gw.nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const info = await consumer.info(true);
  const total = info.num_pending;
  let matched = 0;
  for (let seen = 0; seen < total; seen++) {
    const msg = await consumer.next({ expires: 5000 });
    if (!msg) break;
    if (match(Alert.parse(msg.json()))) matched++;
  }
  await consumer.delete();
  return matched;
}
