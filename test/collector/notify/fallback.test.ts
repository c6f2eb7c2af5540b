import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createLogger,
  createRegistry,
  encodeMessage,
  ensureStreams,
  jetstreamClient,
  newId,
  silentLogger,
  streamNames,
  Subjects,
  type Alert,
  type Registry,
} from '../../../shared/index.ts';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { createDispatcher, type NotificationDispatcher } from '../../../collector/notify/index.ts';
import { FALLBACK_DURABLE } from '../../../collector/notify/fallback.ts';
import { GatewayPublisher } from '../../../telephony-gateway/status/publisher.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { until, untilPolled } from '../../helpers/wait.ts';
import { HttpSink, makeAlert, metricValue, resolvedCopy } from './helpers.ts';

const logger = () => (process.env.TEST_LOG ? createLogger('t') : silentLogger());

describe('notifiers: fallback requests through the GATEWAY stream (real nats-server)', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let sms: HttpSink;
  let subjects: Subjects;
  let open: NotificationDispatcher[] = [];

  before(async () => {
    nc = await connectTo(server);
  });
  after(async () => {
    await nc.drain();
  });
  beforeEach(async () => {
    subjects = new Subjects(
      `fb${newId()
        .replace(/[^a-z0-9]/g, '')
        .slice(-10)}`,
    );
    await ensureStreams(nc, subjects);
    sms = await HttpSink.start();
  });
  afterEach(async () => {
    await Promise.all(open.map((d) => d.close()));
    open = [];
    await sms.close();
  });

  async function collector(registry: Registry = createRegistry('collector')): Promise<NotificationDispatcher> {
    const config = NotificationsConfig.parse({
      receivers: [{ name: 'sms', kind: 'http-get', url: sms.url }],
      routes: [],
      fallback_receivers: ['sms'],
    });
    const d = await createDispatcher(config as NotificationsConfig, { nc, subjects, logger: logger(), registry });
    open.push(d);
    return d;
  }
  /** The real gateway publisher: stored in the stream before fallback() has even finished retrying. */
  async function gatewayFallsBack(
    alerts: Alert[],
    reason: 'budget_exhausted' | 'line_down' = 'budget_exhausted',
  ): Promise<void> {
    const publisher = new GatewayPublisher(jetstreamClient(nc), subjects, 'gw1', logger(), () => Date.now());
    await publisher.fallback(reason, alerts, 'daily budget spent');
    await publisher.settle();
  }
  async function consumerState(): Promise<{ pending: number; unacked: number; delivered: number }> {
    const info = await (await jetstreamManager(nc)).consumers.info(streamNames(subjects).gateway, FALLBACK_DURABLE);
    return { pending: info.num_pending, unacked: info.num_ack_pending, delivered: info.delivered.stream_seq };
  }
  const settled = async (): Promise<boolean> => {
    const state = await consumerState();
    return state.pending === 0 && state.unacked === 0;
  };
  const reasons = () =>
    sms.requests.map(
      (r) =>
        `${r.url.searchParams.get('reason')} ${r.url.searchParams.get('status')} ${r.url.searchParams.get('rule')}`,
    );

  it('a request sent while no collector runs reaches the fallback receivers once the collector starts', async () => {
    const alerts = [makeAlert(), makeAlert({ rule: 'load' })];
    await gatewayFallsBack(alerts);
    const jsm = await jetstreamManager(nc);
    assert.equal(
      (await jsm.streams.info(streamNames(subjects).gateway)).state.messages,
      1,
      'kept in the stream while nobody listens',
    );

    const registry = createRegistry('collector');
    const d = await collector(registry);
    await sms.waitFor(2);
    assert.deepEqual(reasons().sort(), ['fallback firing disk_full', 'fallback firing load']);
    const why = sms.requests.map((r) => r.url.searchParams.get('fallback_reason'));
    assert.deepEqual(why, ['budget_exhausted', 'budget_exhausted'], 'each GET says why nobody was phoned');
    await untilPolled(settled, 'the request to be acknowledged', 10_000, 20);

    // Its resolve reaches the fallback receiver, which was told about the problem.
    d.submit(resolvedCopy(alerts[0]!), 'resolved');
    await d.idle();
    assert.equal(reasons()[2], 'resolved resolved disk_full');

    // An invalid request is counted and terminated, never redelivered.
    await jetstreamClient(nc).publish(
      subjects.fallback('gw1'),
      encodeMessage({ v: 1, id: 'x', host: 'gw1', alerts: 'nope' }),
    );
    await until(
      async () =>
        (await metricValue(registry, 'offhook_invalid_messages_total', { subject: 'fallback', reason: 'schema' })) ===
        1,
      'the invalid request to be counted',
    );
    await untilPolled(settled, 'the invalid request to be terminated', 10_000, 20);
    assert.equal(sms.requests.length, 3);
  });

  it('a redelivered request is not sent twice', async () => {
    const alerts = [makeAlert({ rule: 'redelivered' })];
    const first = await collector();
    await gatewayFallsBack(alerts);
    await sms.waitFor(1);
    await untilPolled(settled, 'the first delivery to be acknowledged', 10_000, 20);
    await first.idle();
    await first.close();
    open = [];

    // The same request comes again: a collector took it from the shared durable and died before acknowledging.
    const stored = await (await jetstreamManager(nc)).streams.getMessage(streamNames(subjects).gateway, { seq: 1 });
    await jetstreamClient(nc).publish(stored!.subject, stored!.data, { msgID: `again-${newId()}` });
    const js = jetstreamClient(nc);
    const taken = await (await js.consumers.get(streamNames(subjects).gateway, FALLBACK_DURABLE)).next({
      expires: 5000,
    });
    assert.ok(taken, 'the crashed collector received it');
    taken.nak();

    const registry = createRegistry('collector');
    const second = await collector(registry);
    await untilPolled(settled, 'the redelivery to be acknowledged', 10_000, 20);
    await second.idle();
    assert.equal(sms.requests.length, 1, `sent twice: ${JSON.stringify(reasons())}`);
    assert.equal(await metricValue(registry, 'offhook_notifications_deduplicated_total', { receiver: 'sms' }), 1);
  });

  it('several collectors share the durable: each request is handled by one of them', async () => {
    await collector();
    await collector();
    const alerts = Array.from({ length: 6 }, (_, i) => makeAlert({ rule: `shared${i}` }));
    for (const alert of alerts) await gatewayFallsBack([alert], 'line_down');
    await sms.waitFor(6);
    await untilPolled(settled, 'every request to be acknowledged', 10_000, 20);
    await Promise.all(open.map((d) => d.idle()));
    assert.deepEqual(sms.requests.map((r) => r.url.searchParams.get('rule')).sort(), alerts.map((a) => a.rule).sort());
    assert.equal((await consumerState()).delivered, 6);
  });
});
