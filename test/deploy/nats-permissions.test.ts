import assert from 'node:assert/strict';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  createRegistry,
  ensureStreams,
  InboundValidator,
  jetstreamClient,
  openBucket,
  publishDurable,
  silentLogger,
} from '../../shared/index.ts';
import { consumeFallbacks, FALLBACK_DURABLE } from '../../collector/notify/fallback.ts';
import { until, untilPolled } from '../helpers/wait.ts';
import * as wire from './lib/messages.ts';

import {
  assertDenied,
  names,
  permissionError,
  subjects,
  usePermissionsServer,
} from './lib/nats-permissions-fixture.ts';

describe('deploy/nats: nats-server.conf accounts and per-user permissions (gateway, collector, operator)', function () {
  const fixture = usePermissionsServer();
  const { connectAs, connectAgent } = fixture;

  it('gives the gateway its ALERTS consumer, acks, call records, Alertmanager alerts; no events', async function () {
    const collector = await connectAs('collector');
    const gateway = await connectAs('gateway');
    await ensureStreams(gateway, subjects);
    const fired = wire.alert('web1');
    await publishDurable(jetstreamClient(collector), subjects.alert('critical', 'web1'), fired);

    const gjsm = await jetstreamManager(gateway);
    await gjsm.consumers.add(names.alerts, {
      durable_name: 'gateway',
      ack_policy: AckPolicy.Explicit,
      filter_subject: subjects.allAlerts,
    });
    const consumer = await jetstream(gateway).consumers.get(names.alerts, 'gateway');
    const msg = await consumer.next({ expires: 5000 });
    assert.ok(msg, 'the gateway received the alert');
    assert.equal(msg.json<{ fingerprint: string }>().fingerprint, fired.fingerprint);
    msg.working();
    assert.equal(await msg.ackAck(), true);

    const ack = wire.ack('web1', 'alice');
    await publishDurable(jetstreamClient(gateway), subjects.ack(ack.fingerprint), ack);
    const gatewayKv = await openBucket(gateway, subjects, 'gateway');
    await gatewayKv.put('budget.day', '3');

    // The Alertmanager bridge publishes what Alertmanager sent as alerts of its own.
    assert.equal(
      (await publishDurable(jetstreamClient(gateway), subjects.alert('critical', 'web1'), wire.alert('web1'))).stream,
      names.alerts,
    );
    await assertDenied(
      () =>
        publishDurable(jetstreamClient(gateway), subjects.event('web1', 'resource'), wire.resourceSample('web1', 9)),
      'publish',
      subjects.event('web1', 'resource'),
    );
    await assertDenied(() => gjsm.streams.delete(names.alerts), 'publish', `$JS.API.STREAM.DELETE.${names.alerts}`);
    const alertsKv = await openBucket(gateway, subjects, 'alerts');
    await assertDenied(
      () => alertsKv.put(fired.fingerprint, 'x'),
      'publish',
      `$KV.offhook-alerts.${fired.fingerprint}`,
    );
  });

  it('lets the gateway store fallbacks, events in GATEWAY, the collector read them; agents neither', async function () {
    const gateway = await connectAs('gateway');
    const fallback = wire.fallback('gw1');
    assert.equal(
      (await publishDurable(jetstreamClient(gateway), subjects.fallback('gw1'), fallback)).stream,
      names.gateway,
    );
    assert.equal(
      (await publishDurable(jetstreamClient(gateway), subjects.gatewayEvent('gw1'), wire.gatewayEvent('gw1'))).stream,
      names.gateway,
    );

    // The collector's fallback intake: the shared durable, created by the collector user, acknowledged after handling.
    const collector = await connectAs('collector');
    const handled: string[] = [];
    const intake = await consumeFallbacks(
      collector,
      subjects,
      new InboundValidator(createRegistry('t'), silentLogger(), subjects),
      silentLogger(),
      async (request) => {
        handled.push(request.id);
        return request.alerts.length;
      },
    );
    try {
      await until(() => handled.length === 1, 'the collector to take the fallback request');
      assert.deepEqual(handled, [fallback.id]);
      await untilPolled(
        async () =>
          (await (await jetstreamManager(collector)).consumers.info(names.gateway, FALLBACK_DURABLE))
            .num_ack_pending === 0,
        'the acknowledgement',
      );
    } finally {
      await intake.stop();
    }

    const web1 = await connectAgent('web1');
    await assertDenied(
      () => publishDurable(jetstreamClient(web1), subjects.fallback('web1'), wire.fallback('web1')),
      'publish',
      subjects.fallback('web1'),
    );
    await assertDenied(
      () => web1.request(`$JS.API.CONSUMER.INFO.${names.gateway}.${FALLBACK_DURABLE}`, undefined, { timeout: 5000 }),
      'publish',
      `$JS.API.CONSUMER.INFO.${names.gateway}.${FALLBACK_DURABLE}`,
    );
  });

  it('lets the operator ask the running collector and gateways for `offhook status`, agents not', async function () {
    const collector = await connectAs('collector');
    collector.subscribe(subjects.statusRequest('collector'), {
      queue: 'offhook-collector-status',
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ component: 'collector' }));
      },
    });
    await collector.flush();
    const gateway = await connectAs('gateway');
    gateway.subscribe(subjects.statusRequest('gateway'), {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ component: 'gateway' }));
      },
    });
    await gateway.flush();
    const operator = await connectAs('operator');
    assert.deepEqual((await operator.request(subjects.statusRequest('collector'), '', { timeout: 5000 })).json(), {
      component: 'collector',
    });
    assert.deepEqual((await operator.request(subjects.statusRequest('gateway'), '', { timeout: 5000 })).json(), {
      component: 'gateway',
    });
    const web1 = await connectAgent('web1');
    await assertDenied(
      () => web1.request(subjects.statusRequest('collector'), '', { timeout: 5000 }),
      'publish',
      subjects.statusRequest('collector'),
    );
  });

  it("lets the collector's web console ask gateways for status and voice notes, not test calls", async function () {
    const gateway = await connectAs('gateway');
    gateway.subscribe(subjects.statusRequest('gateway'), {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ component: 'gateway' }));
      },
    });
    gateway.subscribe(`${subjects.root}.gatewayctl.gw1.voice_note`, {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ total: 0, offset: 0, data: '' }));
      },
    });
    await gateway.flush();
    const collector = await connectAs('collector');
    assert.deepEqual((await collector.request(subjects.statusRequest('gateway'), '', { timeout: 5000 })).json(), {
      component: 'gateway',
    });
    const note = await collector.request(`${subjects.root}.gatewayctl.gw1.voice_note`, '{}', { timeout: 5000 });
    assert.deepEqual(note.json(), { total: 0, offset: 0, data: '' });
    await assertDenied(
      () => collector.request(`${subjects.root}.gatewayctl.gw1.test_call`, '{}', { timeout: 5000 }),
      'publish',
      `${subjects.root}.gatewayctl.gw1.test_call`,
    );
  });

  it("lets collector and gateway hear each other's watchdog heartbeats; agents forge neither", async function () {
    const collector = await connectAs('collector');
    const gateway = await connectAs('gateway');
    const atGateway = gateway.subscribe(subjects.allCollectorHeartbeats, { max: 1 });
    const atCollector = collector.subscribe(subjects.allGatewayHeartbeats, { max: 1 });
    await Promise.all([gateway.flush(), collector.flush()]);
    const web1 = await connectAgent('web1');
    const violations: string[] = [];
    void (async () => {
      for await (const status of web1.status())
        if (status.type === 'error' && permissionError(status.error))
          violations.push(permissionError(status.error)!.subject);
    })();
    // The agent's forgeries go first on its one connection: had they been delivered, they would arrive first.
    web1.publish(subjects.collectorHeartbeat('c1'), '{}');
    web1.publish(subjects.gatewayHeartbeat('gw1'), '{}');
    await web1.flush();
    collector.publish(subjects.collectorHeartbeat('c1'), '{"from":"collector"}');
    gateway.publish(subjects.gatewayHeartbeat('gw1'), '{"from":"gateway"}');
    for await (const msg of atGateway) assert.deepEqual(msg.json(), { from: 'collector' });
    for await (const msg of atCollector) assert.deepEqual(msg.json(), { from: 'gateway' });
    await until(() => violations.length === 2, 'both forgeries refused');
    assert.deepEqual(violations.sort(), [subjects.collectorHeartbeat('c1'), subjects.gatewayHeartbeat('gw1')].sort());
  });

  it('lets the operator ask the running gateway for a test call, and agents not', async function () {
    const gateway = await connectAs('gateway');
    const control = `${subjects.root}.gatewayctl.gw1.test_call`;
    gateway.subscribe(control, {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify({ ok: true, outcome: 'answered' }));
      },
    });
    await gateway.flush();
    const operator = await connectAs('operator');
    const reply = await operator.request(control, JSON.stringify({ number: '100' }), { timeout: 5000 });
    assert.deepEqual(reply.json(), { ok: true, outcome: 'answered' });
    const web1 = await connectAgent('web1');
    await assertDenied(
      () => web1.request(control, JSON.stringify({ number: '100' }), { timeout: 5000 }),
      'publish',
      control,
    );
  });

  it('lets the collector replay EVENTS and keep its KV state, not forge events or delete streams', async function () {
    // An agent's event to replay (this file's server has none of its own yet).
    const web1 = await connectAgent('web1');
    await publishDurable(jetstreamClient(web1), subjects.event('web1', 'resource'), wire.resourceSample('web1', 1));
    const collector = await connectAs('collector');
    const consumer = await jetstream(collector).consumers.get(names.events, { opt_start_seq: 1 });
    const first = await consumer.next({ expires: 5000 });
    assert.equal(first?.subject, subjects.event('web1', 'resource'));
    const checkpoints = await openBucket(collector, subjects, 'checkpoints');
    await checkpoints.put('rules', JSON.stringify({ seq: first?.seq }));
    assert.equal((await checkpoints.get('rules'))?.string(), JSON.stringify({ seq: first?.seq }));
    const keys: string[] = [];
    for await (const key of await checkpoints.keys()) keys.push(key);
    assert.deepEqual(keys, ['rules']);

    await assertDenied(
      () => publishDurable(jetstreamClient(collector), subjects.event('web1', 'log'), wire.resourceSample('web1', 5)),
      'publish',
      subjects.event('web1', 'log'),
    );
    const jsm = await jetstreamManager(collector);
    await assertDenied(() => jsm.streams.delete(names.events), 'publish', `$JS.API.STREAM.DELETE.${names.events}`);
    await assertDenied(() => jsm.streams.purge(names.events), 'publish', `$JS.API.STREAM.PURGE.${names.events}`);
  });

  it('lets an operator acknowledge and read state, but not change alert state or streams', async function () {
    const operator = await connectAs('operator');
    // The operator commands (offhook ack/alerts/silence) run ensureStreams first; with everything in place that only
    // reads.
    await ensureStreams(operator, subjects);
    const ack = wire.ack('db1', 'bob');
    await publishDurable(jetstreamClient(operator), subjects.ack(ack.fingerprint), ack);
    const kvm = new Kvm(operator);
    const alerts = await kvm.open('offhook-alerts');
    assert.equal(await alerts.get('missing'), null);
    await (await kvm.open('offhook-silences')).put('s1', JSON.stringify({ matchers: [], until: 0 }));
    await assertDenied(() => alerts.put('x', 'y'), 'publish', '$KV.offhook-alerts.x');
    await assertDenied(
      () => jetstreamManager(operator).then((jsm) => jsm.streams.delete(names.calls)),
      'publish',
      `$JS.API.STREAM.DELETE.${names.calls}`,
    );
  });
});
