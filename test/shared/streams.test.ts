import assert from 'node:assert/strict';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  bucketName,
  BUCKETS,
  DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT,
  ensureStreams,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';

const NS_PER_MS = 1_000_000;
const DAY_MS = 86_400_000;

describe('ensureStreams: KV bucket limits', function () {
  const server = useNatsServer();
  let nc: NatsConnection;

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc?.close();
  });

  it('gives the gateway bucket a 30-day TTL, so escalation markers do not pile up forever', async () => {
    const subjects = new Subjects('ttlfresh');
    await ensureStreams(nc, subjects);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`KV_${bucketName(subjects, 'gateway')}`);
    assert.equal(info.config.max_age, 30 * DAY_MS * NS_PER_MS);
    assert.equal(BUCKETS.gateway.ttlMs, 30 * DAY_MS);
  });

  it('adds the TTL to a bucket an earlier release created without one, and keeps its entries', async () => {
    const subjects = new Subjects('ttlold');
    const name = bucketName(subjects, 'gateway');
    const old = await new Kvm(nc).create(name, { history: 1, description: BUCKETS.gateway.description });
    await old.put('escalation.0123456789abcdef', JSON.stringify({ generation: 1, status: 'done' }));
    const jsm = await jetstreamManager(nc);
    assert.equal((await jsm.streams.info(`KV_${name}`)).config.max_age, 0);

    await ensureStreams(nc, subjects);
    const info = await jsm.streams.info(`KV_${name}`);
    assert.equal(info.config.max_age, 30 * DAY_MS * NS_PER_MS);
    assert.equal(info.state.messages, 1);
    // Buckets without a TTL keep none.
    assert.equal((await jsm.streams.info(`KV_${bucketName(subjects, 'alerts')}`)).config.max_age, 0);
    // A second run finds nothing to change.
    await ensureStreams(nc, subjects);
    assert.deepEqual((await jsm.streams.info(`KV_${name}`)).config, info.config);
  });
});

describe('ensureStreams: EVENTS max_msgs_per_subject (one host cannot crowd out the others)', function () {
  const server = useNatsServer();
  let nc: NatsConnection;

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc?.close();
  });

  it("a new EVENTS stream gets the default; a process that does not set it leaves an operator's value", async () => {
    const subjects = new Subjects('perhost');
    const events = streamNames(subjects).events;
    const jsm = await jetstreamManager(nc);
    await ensureStreams(nc, subjects);
    assert.equal((await jsm.streams.info(events)).config.max_msgs_per_subject, DEFAULT_EVENTS_MAX_MSGS_PER_SUBJECT);
    await ensureStreams(nc, subjects, { eventsMaxMsgsPerSubject: 500 });
    assert.equal(
      (await jsm.streams.info(events)).config.max_msgs_per_subject,
      500,
      'the collector updates a drifted value',
    );
    await ensureStreams(nc, subjects);
    assert.equal((await jsm.streams.info(events)).config.max_msgs_per_subject, 500, 'the gateway (no value) keeps it');
    const before = (await jsm.streams.info(events)).config;
    await ensureStreams(nc, subjects, { eventsMaxMsgsPerSubject: 500 });
    assert.deepEqual((await jsm.streams.info(events)).config, before, 'idempotent');
    await ensureStreams(nc, subjects, { eventsMaxMsgsPerSubject: 0 });
    const unlimited = (await jsm.streams.info(events)).config;
    assert.ok(unlimited.max_msgs_per_subject <= 0, '0 = unlimited');
    await ensureStreams(nc, subjects, { eventsMaxMsgsPerSubject: 0 });
    assert.deepEqual((await jsm.streams.info(events)).config, unlimited, 'idempotent at 0 too');
  });

  it("discards a flooding subject's oldest messages, not another host's", async () => {
    const subjects = new Subjects('perhostflood');
    await ensureStreams(nc, subjects, { eventsMaxMsgsPerSubject: 10 });
    const js = jetstream(nc);
    await js.publish(subjects.event('quiet', 'check'), '{}');
    for (let i = 0; i < 50; i++) await js.publish(subjects.event('loud', 'check'), '{}');
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(streamNames(subjects).events, { subjects_filter: '>' });
    assert.deepEqual(info.state.subjects, {
      [subjects.event('quiet', 'check')]: 1,
      [subjects.event('loud', 'check')]: 10,
    });
  });
});
