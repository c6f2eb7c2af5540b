import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
import { connect, errors } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { encodeMessage, jetstreamClient, publishDurable } from '../../shared/index.ts';
import * as wire from './lib/messages.ts';

import {
  assertDenied,
  names,
  permissionError,
  subjects,
  usePermissionsServer,
} from './lib/nats-permissions-fixture.ts';

describe('deploy/nats: nats-server.conf accounts and per-user permissions (agents)', function () {
  const fixture = usePermissionsServer();
  const { connectAs, connectAgent } = fixture;

  it('refuses clients without credentials and clients without TLS', async function () {
    await assert.rejects(
      connect({ servers: fixture.server.url, tls: { caFile: fixture.certs.ca }, maxReconnectAttempts: 0 }),
      (err: Error) => err instanceof errors.AuthorizationError || /authorization/i.test(String(err)),
    );
    // A plaintext client is told TLS is required and is never logged in.
    const socket = createConnection({ host: '127.0.0.1', port: fixture.server.port });
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
});
