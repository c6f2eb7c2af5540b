import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { CollectorConfig } from '../collector/config.ts';
import { startCollector } from '../collector/service.ts';
import {
  createRegistry,
  ensureStreams,
  jetstreamClient,
  silentLogger,
  streamNames,
  Subjects,
  type Alert,
  type ResourceSample,
} from '../shared/index.ts';
import { percentile, report, resourceSample } from './lib.ts';

const HOSTS = 1000;
const RULES = 100;
const EVENTS_PER_HOST = 10;
const LATENCY_SAMPLES = 200;
const PREFIX = 'bench';

/** One sample per host carries all 100 gauges, so every event is judged by all 100 threshold rules. */
function sample(host: string, seq: number, over: boolean): ResourceSample {
  const metrics = Array.from({ length: RULES }, (_, i) => ({
    name: `gauge_${i}`,
    type: 'gauge' as const,
    value: over && i === 0 ? 99 : (seq * 7 + i * 13) % 80,
  }));
  return resourceSample(host, seq, metrics);
}

async function preload(nc: NatsConnection, subjects: Subjects): Promise<number> {
  const js = jetstreamClient(nc);
  let count = 0;
  const inflight: Promise<unknown>[] = [];
  for (let round = 1; round <= EVENTS_PER_HOST; round++) {
    for (let h = 0; h < HOSTS; h++) {
      const host = `host${h}`;
      // One host in a hundred crosses a line now and then: real transitions, KV writes, alerts.
      const event = sample(host, round, h % 100 === 0 && round % 3 === 0);
      inflight.push(js.publish(subjects.event(host, 'resource'), JSON.stringify(event), { msgID: event.id }));
      count += 1;
      if (inflight.length >= 500) await Promise.all(inflight.splice(0));
    }
  }
  await Promise.all(inflight);
  return count;
}

/** The baseline: an ordered consumer over the same stream that only JSON-parses each message. */
async function bareSubscriber(nc: NatsConnection, stream: string, total: number): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const started = performance.now();
  let seen = 0;
  let parsedBytes = 0;
  await new Promise<void>((resolve) => {
    void consumer
      .consume({
        callback: (msg) => {
          parsedBytes += (JSON.parse(new TextDecoder().decode(msg.data)) as ResourceSample).metrics.length;
          if (++seen === total) resolve();
        },
      })
      .then((messages) => void messages.closed().then(() => undefined));
  });
  if (parsedBytes === 0) throw new Error('nothing parsed');
  return total / ((performance.now() - started) / 1000);
}

export async function run(): Promise<void> {
  const server = await EmbeddedNatsServer.start();
  const nc = await connect({ servers: server.url });
  const subjects = new Subjects(PREFIX);
  try {
    await ensureStreams(nc, subjects);
    const total = await preload(nc, subjects);
    const stream = streamNames(subjects).events;
    const baseline = await bareSubscriber(nc, stream, total);

    const rules = Array.from({ length: RULES }, (_, i) => ({
      name: `gauge_${i}_high`,
      kind: 'threshold',
      metric: `gauge_${i}`,
      warn: 85,
      crit: 95,
      clear_below: 80,
    }));
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      checkpoint_interval: '5s',
      rules,
    });
    let announced = 0;
    const started = performance.now();
    const collector = await startCollector(config, {
      logger: silentLogger(),
      registry: createRegistry('collector'),
      sink: { submit: () => void (announced += 1) },
    });
    await new Promise<void>((resolve) => {
      const poll = (): void => (collector.engine.state.streamSeq >= total ? resolve() : void setImmediate(poll));
      poll();
    });
    const collectorRate = total / ((performance.now() - started) / 1000);
    await collector.idle();

    // publish -> alert: one event at a time crossing a line on a fresh host, until its Alert arrives on ALERTS.
    const latencies: number[] = [];
    const js = jetstreamClient(nc);
    const waiting = new Map<string, (at: number) => void>();
    const sub = nc.subscribe(`${PREFIX}.v1.alerts.>`, {
      callback: (_err, msg) => {
        const alert = JSON.parse(msg.string()) as Alert;
        if (alert.status === 'firing') waiting.get(alert.host)?.(performance.now());
      },
    });
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const host = `latency${i}`;
      const arrived = new Promise<number>((resolve) => waiting.set(host, resolve));
      const sent = performance.now();
      await js.publish(subjects.event(host, 'resource'), JSON.stringify(sample(host, 1, true)), { msgID: `${host}-1` });
      latencies.push((await arrived) - sent);
    }
    sub.unsubscribe();
    await collector.stop();

    report({
      bench: 'collector',
      rows: [
        {
          name: `events/s, ${RULES} threshold rules x ${HOSTS} hosts (${total} events, ${RULES} gauges each)`,
          value: collectorRate,
          unit: 'events/s',
          baseline: { name: 'bare subscriber, JSON.parse only', value: baseline },
          note: `${announced} announcements during the replay; includes zod validation of every event`,
        },
        { name: 'rule evaluations/s', value: collectorRate * RULES, unit: 'evals/s' },
        { name: 'publish -> alert latency p50', value: percentile(latencies, 50), unit: 'ms' },
        {
          name: 'publish -> alert latency p99',
          value: percentile(latencies, 99),
          unit: 'ms',
          note: `${LATENCY_SAMPLES} sequential events, each firing a new alert (KV write + ALERTS publish)`,
        },
      ],
    });
  } finally {
    await nc.drain();
    await server.stop();
    await server.dispose?.();
  }
}
