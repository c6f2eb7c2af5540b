import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import {
  connectionOptions,
  createRegistry,
  encodeMessage,
  ensureStreams,
  InboundValidator,
  jetstreamClient,
  NatsConfig,
  openBucket,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { generateUsers } from '../../deploy/nats/gen-users.ts';
import { CredentialStore } from '../../deploy/nats/credentials.ts';
import { agentInboxPrefix } from '../../deploy/nats/permissions.ts';
import { consumeFallbacks, FALLBACK_DURABLE } from '../../collector/notify/fallback.ts';
import { until, untilPolled } from '../helpers/wait.ts';
import { startNatsServer, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { adaptConfig } from './lib/nats-config.ts';
import { makeTestCertificates, type TestCertificates } from './lib/tls.ts';
import * as wire from './lib/messages.ts';

const subjects = new Subjects('offhook');
const names = streamNames(subjects);

/** The error a denied operation ends with, looked up through `cause` chains (JetStream wraps request errors). */
function permissionError(err: unknown): InstanceType<typeof errors.PermissionViolationError> | undefined {
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e instanceof errors.PermissionViolationError) return e;
  }
  return undefined;
}

async function assertDenied(
  action: () => Promise<unknown>,
  operation: 'publish' | 'subscription',
  subject: string,
): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${operation} to ${subject} to be refused, but it succeeded`);
  const denied = permissionError(caught);
  assert.ok(denied, `expected a permissions violation, got ${String(caught)}`);
  assert.equal(denied.operation, operation);
  assert.equal(denied.subject, subject);
}

describe('deploy/nats: nats-server.conf accounts and per-user permissions', function () {
  let dir: string;
  let certs: TestCertificates;
  let server: EmbeddedNatsServer;
  let credentials: CredentialStore;
  const open: NatsConnection[] = [];

  async function connectAs(user: string, extra: Partial<NatsConfig> = {}): Promise<NatsConnection> {
    const config = NatsConfig.parse({
      servers: [server.url],
      nkey_seed_file: credentials.path(user),
      tls: { ca_file: certs.ca },
      ...extra,
    });
    const nc = await connect({ ...connectionOptions(config, `test-${user}`, true), maxReconnectAttempts: 0 });
    open.push(nc);
    return nc;
  }
  const connectAgent = (host: string): Promise<NatsConnection> =>
    connectAs(`agent-${host}`, { inbox_prefix: agentInboxPrefix(host) });

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-nats-perms-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    const configFile = adaptConfig(dir, 'nats-server.conf', { certs, storeDir: join(dir, 'jetstream') });
    const generated = generateUsers({
      hosts: ['web1', 'db1'],
      prefix: 'offhook',
      auth: 'nkey',
      secretsDir: join(dir, 'credentials'),
    });
    writeFileSync(join(dir, 'users.conf'), generated.text);
    credentials = new CredentialStore(join(dir, 'credentials'), 'nkey');
    server = await startNatsServer({ configFile, jetstream: false });
    // The collector creates everything at start, with nothing but its own permissions.
    const collector = await connectAs('collector');
    await ensureStreams(collector, subjects);
  });

  after(async function () {
    // Teardown: some connections were closed by the test already.
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses clients without credentials and clients without TLS', async function () {
    await assert.rejects(
      connect({ servers: server.url, tls: { caFile: certs.ca }, maxReconnectAttempts: 0 }),
      (err: Error) => err instanceof errors.AuthorizationError || /authorization/i.test(String(err)),
    );
    // A plaintext client is told TLS is required and is never logged in.
    const socket = createConnection({ host: '127.0.0.1', port: server.port });
    const lines = createInterface({ input: socket });
    const iterator = lines[Symbol.asyncIterator]();
    const info = JSON.parse(String((await iterator.next()).value).replace(/^INFO /, '')) as { tls_required?: boolean };
    assert.equal(info.tls_required, true);
    socket.write('CONNECT {"verbose":false}\r\nPING\r\n');
    const rest: string[] = [];
    for (let line = await iterator.next(); !line.done; line = await iterator.next()) rest.push(String(line.value));
    assert.ok(!rest.includes('PONG'), `the server answered a plaintext client: ${rest.join(' | ')}`);
    assert.ok(socket.destroyed || socket.readableEnded, 'the server closed the plaintext connection');
  });

  it('lets agent web1 publish its own events (JetStream, PubAck on its own inbox) and heartbeats', async function () {
    const collector = await connectAs('collector');
    const heartbeats = collector.subscribe(subjects.allHeartbeats, { max: 1 });
    await collector.flush();
    const web1 = await connectAgent('web1');
    const ack = await publishDurable(
      jetstreamClient(web1),
      subjects.event('web1', 'resource'),
      wire.resourceSample('web1', 1),
    );
    assert.equal(ack.stream, names.events);
    web1.publish(subjects.heartbeat('web1'), encodeMessage(wire.heartbeat('web1', 1)));
    for await (const msg of heartbeats) assert.equal(msg.subject, subjects.heartbeat('web1'));
  });

  it('refuses agent web1 publishing events or heartbeats as db1, and stores nothing for db1', async function () {
    const web1 = await connectAgent('web1');
    const event = wire.resourceSample('db1', 1);
    await assertDenied(
      () => publishDurable(jetstreamClient(web1), subjects.event('db1', 'resource'), event),
      'publish',
      subjects.event('db1', 'resource'),
    );

    const collector = await connectAs('collector');
    const heartbeats = collector.subscribe(subjects.allHeartbeats, { max: 1 });
    await collector.flush();
    const violations = (async () => {
      for await (const status of web1.status()) {
        if (status.type === 'error' && permissionError(status.error)) return permissionError(status.error)!.subject;
      }
      return undefined;
    })();
    web1.publish(subjects.heartbeat('db1'), encodeMessage(wire.heartbeat('db1', 1)));
    // Same connection, so the server handles them in order: when web1's heartbeat arrives, db1's would have come first.
    web1.publish(subjects.heartbeat('web1'), encodeMessage(wire.heartbeat('web1', 2)));
    for await (const msg of heartbeats)
      assert.equal(msg.subject, subjects.heartbeat('web1'), 'the forged db1 heartbeat was delivered');
    assert.equal(await violations, subjects.heartbeat('db1'));

    const jsm = await jetstreamManager(collector);
    const forged = await jsm.streams
      .getMessage(names.events, { last_by_subj: subjects.event('db1', 'resource') })
      .catch((err: Error) => err);
    assert.ok(
      forged === null || /no message found/i.test(String(forged)),
      `expected no db1 event in ${names.events}, got ${String(forged)}`,
    );
  });

  it('refuses agent web1 reading alerts, events and other replies', async function () {
    const web1 = await connectAgent('web1');
    for (const subject of [
      subjects.allAlerts,
      subjects.alert('critical', 'web1'),
      subjects.allEvents,
      '_INBOX.>',
      '>',
    ]) {
      const sub = web1.subscribe(subject);
      const closed = sub.closed;
      await web1.flush();
      await assertDenied(
        () =>
          closed.then((err) => {
            if (err) throw err;
          }),
        'subscription',
        subject,
      );
    }
    // The JetStream API is closed to agents entirely: no consumer on EVENTS or ALERTS, no stream info.
    await assertDenied(() => jetstreamManager(web1), 'publish', '$JS.API.INFO');
    const js = jetstream(web1);
    await assertDenied(
      () => js.consumers.get(names.events).then((c) => c.next({ expires: 1000 })),
      'publish',
      `$JS.API.STREAM.INFO.${names.events}`,
    );
    const create = `$JS.API.CONSUMER.CREATE.${names.events}`;
    await assertDenied(
      () => web1.request(create, JSON.stringify({ stream_name: names.events, config: {} }), { timeout: 5000 }),
      'publish',
      create,
    );
  });

  it('refuses agent web1 acknowledging alerts, deleting streams or writing KV', async function () {
    const web1 = await connectAgent('web1');
    const ack = wire.ack('web1', 'mallory');
    await assertDenied(
      () => publishDurable(jetstreamClient(web1), subjects.ack(ack.fingerprint), ack),
      'publish',
      subjects.ack(ack.fingerprint),
    );
    await assertDenied(
      () => web1.request(`$JS.API.STREAM.DELETE.${names.events}`, undefined, { timeout: 5000 }),
      'publish',
      `$JS.API.STREAM.DELETE.${names.events}`,
    );
    await assertDenied(
      () => web1.request('$KV.offhook-silences.x', 'forever', { timeout: 5000 }),
      'publish',
      '$KV.offhook-silences.x',
    );

    const collector = await connectAs('collector');
    const jsm = await jetstreamManager(collector);
    assert.equal((await jsm.streams.info(names.acks)).state.messages, 0, 'no ack was stored');
    assert.equal((await jsm.streams.info(names.events)).config.name, names.events, 'EVENTS still exists');
  });

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
