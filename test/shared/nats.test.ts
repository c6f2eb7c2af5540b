import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  bucketName,
  BUCKETS,
  connectNats,
  createRegistry,
  ensureStreams,
  jetstreamClient,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
  type NatsConfig,
} from '../../shared/index.ts';
import { sampleMessages } from '../fixtures/messages.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';

describe('NATS helpers against a real nats-server', function () {
  const server = useNatsServer();
  let nc: NatsConnection;
  const subjects = new Subjects();

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc?.close();
  });

  it('creates every stream and KV bucket, and a second run changes nothing', async () => {
    await ensureStreams(nc, subjects);
    const jsm = await jetstreamManager(nc);
    const names = streamNames(subjects);
    const before = await jsm.streams.info(names.events);
    await ensureStreams(nc, subjects);
    const after = await jsm.streams.info(names.events);
    assert.equal(after.created, before.created);
    assert.deepEqual(after.config, before.config);
    for (const name of Object.values(names)) assert.ok(await jsm.streams.info(name));
    const kvm = new Kvm(nc);
    for (const bucket of Object.keys(BUCKETS) as (keyof typeof BUCKETS)[]) {
      const kv = await kvm.open(bucketName(subjects, bucket));
      assert.equal((await kv.status()).bucket, bucketName(subjects, bucket));
    }
  });

  it('updates a stream whose settings drifted instead of failing', async () => {
    await ensureStreams(nc, subjects, { eventsMaxAgeMs: 3_600_000 });
    const jsm = await jetstreamManager(nc);
    assert.equal((await jsm.streams.info(streamNames(subjects).events)).config.max_age, 3_600_000 * 1_000_000);
    await ensureStreams(nc, subjects);
  });

  it('stores a re-sent message id once (JetStream dedup on id)', async () => {
    await ensureStreams(nc, subjects);
    const js = jetstreamClient(nc);
    const { log } = sampleMessages();
    const first = await publishDurable(js, subjects.event('web1', 'log'), log);
    const again = await publishDurable(js, subjects.event('web1', 'log'), log);
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
    const other = await publishDurable(js, subjects.event('web1', 'log'), { ...log, id: `${log.id}-2` });
    assert.equal(other.seq, first.seq + 1);
  });

  it('reconnects by itself after the server restarts, and reports it in metrics', async () => {
    const registry = createRegistry('test');
    const config: NatsConfig = { servers: [server.url], prefix: 'offhook', stream_replicas: 1 };
    const client = await connectNats(config, { name: 'reconnect-test', logger: silentLogger(), registry });
    try {
      const reconnected = (async () => {
        for await (const status of client.status()) if (status.type === 'reconnect') return;
      })();
      await server.restart();
      await reconnected;
      const sub = client.subscribe('probe.after.restart', { max: 1 });
      await client.flush();
      client.publish('probe.after.restart', 'hello');
      for await (const msg of sub) assert.equal(msg.string(), 'hello');
      const text = await registry.metrics();
      assert.match(text, /offhook_nats_connected\{process="test"\} 1/);
      assert.match(text, /offhook_nats_reconnects_total\{process="test"\} 1/);
      // The JetStream store survived the restart in place.
      const jsm = await jetstreamManager(client);
      assert.ok((await jsm.streams.info(streamNames(subjects).events)).state.messages >= 2);
    } finally {
      await client.close();
    }
  });
});
