import assert from 'node:assert/strict';
import { DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createRegistry,
  ensureStreams,
  InboundValidator,
  jetstreamClient,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
} from '../../../shared/index.ts';
import { AlertConsumer } from '../../../telephony-gateway/intake/alert-consumer.ts';
import { gatewayConfig } from '../helpers.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { startTestGateway, type TestGateway } from '../harness.ts';
import { makeAlert } from '../helpers.ts';

describe('gateway alerts.catch_up: what a freshly created consumer still rings', function () {
  const server = useNatsServer();
  let nc: NatsConnection;
  let gw: TestGateway | null = null;
  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await gw?.stop();
    await nc?.close();
  });

  it('defaults to 15 minutes', () => {
    assert.equal(gatewayConfig().alerts.catch_up, 15 * 60_000);
    assert.equal(gatewayConfig({ alerts: { catch_up: '1h' } }).alerts.catch_up, 3_600_000);
  });

  it('rings for an alert that fired before the gateway first started', async () => {
    const subjects = new Subjects('catchup1');
    await ensureStreams(nc, subjects);
    const alert = makeAlert({ summary: 'fired while the gateway was being installed' });
    await publishDurable(jetstreamClient(nc), subjects.alert(alert.severity, alert.host), alert);

    gw = await startTestGateway(server, {}, subjects.prefix);
    gw.line.script({
      number: '100',
      answerAfterRings: 1,
      then: [{ waitForPrompt: 'menu', after: 500 }, { press: '1' }],
    });
    await gw.waitFor('the call for the earlier alert', () =>
      gw!.offHooks.some((fps) => fps.includes(alert.fingerprint)),
    );
    await gw.waitFor('its acknowledgement', () =>
      gw!.finished.some((f) => f.fingerprint === alert.fingerprint && f.reason === 'acknowledged'),
    );
  });

  it('starts catch_up before now: older history never comes; an existing consumer keeps its position', async () => {
    const subjects = new Subjects('catchup2');
    await ensureStreams(nc, subjects);
    const js = jetstreamClient(nc);
    const jsm = await jetstreamManager(nc);
    const stream = streamNames(subjects).alerts;
    const old = makeAlert({ host: 'old' });
    const oldAck = await publishDurable(js, subjects.alert(old.severity, old.host), old);
    const storedAt = (await jsm.streams.getMessage(stream, { seq: oldAck.seq }))!.time.getTime();
    // Wait for the wall clock to pass the old message's millisecond (a condition, not a pause).
    while (Date.now() <= storedAt) await new Promise((resolve) => setImmediate(resolve));
    const cutoff = Date.now();
    const recent = makeAlert({ host: 'recent' });
    await publishDurable(js, subjects.alert(recent.severity, recent.host), recent);

    const catchUpMs = 15 * 60_000;
    const validator = new InboundValidator(createRegistry('test'), silentLogger(), subjects, () => Date.now());
    const consumer = new AlertConsumer(nc, js, subjects, validator, silentLogger(), {
      durableName: 'gw-catchup',
      ackWaitMs: 30_000,
      catchUpMs,
      wallClock: () => cutoff + catchUpMs,
    });
    await consumer.ensure();
    const info = await jsm.consumers.info(stream, 'gw-catchup');
    assert.equal(info.config.deliver_policy, DeliverPolicy.StartTime);
    assert.equal(new Date(info.config.opt_start_time!).getTime(), cutoff);
    assert.equal(await consumer.pendingAtStart(), 1, 'only the alert inside the catch-up window is waiting');
    const delivered = await (await js.consumers.get(stream, 'gw-catchup')).next({ expires: 5000 });
    assert.equal(delivered?.json<{ host: string }>().host, 'recent');
    delivered?.ack();

    // A restart with another catch-up leaves the existing durable where it is.
    const again = new AlertConsumer(nc, js, subjects, validator, silentLogger(), {
      durableName: 'gw-catchup',
      ackWaitMs: 30_000,
      catchUpMs: 3_600_000,
    });
    await again.ensure();
    assert.equal(new Date((await jsm.consumers.info(stream, 'gw-catchup')).config.opt_start_time!).getTime(), cutoff);
  });
});
