import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { openSimLine } from '../native/index.ts';
import {
  SCHEMA_VERSION,
  Subjects,
  ensureStreams,
  fingerprint,
  jetstreamClient,
  newId,
  publishDurable,
  silentLogger,
  streamNames,
  type Alert,
} from '../shared/index.ts';
import { GatewayConfig } from '../telephony-gateway/config.ts';
import { startGateway } from '../telephony-gateway/gateway.ts';
import { openDriver } from '../telephony-gateway/drivers/open.ts';
import { percentile, report } from './lib.ts';

const SAMPLES = 100;
const PREFIX = 'gwbench';

function alert(i: number): Alert {
  const host = `web${i}`;
  const now = Date.now();
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: now,
    fingerprint: fingerprint(host, 'http_down', {}),
    status: 'firing',
    severity: 'critical',
    rule: 'http_down',
    ruleKind: 'check',
    labels: {},
    summary: 'HTTP down',
    value: null,
    startsAt: now,
    endsAt: 0,
    generation: 1,
    inhibited: false,
    acknowledged: false,
  };
}

/** Baseline: the same JetStream publish reaching a bare durable pull consumer, no gateway logic. */
async function bareConsumerLatency(url: string, subjects: Subjects): Promise<number[]> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const stream = streamNames(subjects).alerts;
  await jsm.consumers.add(stream, {
    durable_name: 'bare',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.New,
    filter_subject: subjects.allAlerts,
  });
  const js = jetstreamClient(nc);
  const consumer = await js.consumers.get(stream, 'bare');
  let arrived: (() => void) | null = null;
  const messages = await consumer.consume({
    callback: (m) => {
      m.ack();
      arrived?.();
    },
  });
  const latencies: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const a = alert(10_000 + i);
    const got = new Promise<void>((resolve) => (arrived = resolve));
    const start = performance.now();
    await publishDurable(js, subjects.alert(a.severity, a.host), a);
    await got;
    latencies.push(performance.now() - start);
  }
  messages.stop();
  await jsm.consumers.delete(stream, 'bare');
  await nc.drain();
  return latencies;
}

/**
 * Alert publish → line off hook on an idle line (the goal is ≤ 200 ms). Each far end is busy so the
 * line frees at once; each alert's escalation then ends (one person, one round) before the next.
 */
export async function run(): Promise<void> {
  const server = await EmbeddedNatsServer.start();
  const stateDir = mkdtempSync(join(tmpdir(), 'offhook-gwbench-'));
  try {
    const subjects = new Subjects(PREFIX);
    const config = GatewayConfig.parse({
      gateway_host: 'bench',
      state_dir: stateDir,
      nats: { servers: [server.url], prefix: PREFIX },
      line: { backend: 'sim' },
      people: [{ name: 'alice', number: '100' }],
      escalation: { max_rounds: 1 },
      budget: {
        max_calls_per_hour: 10_000,
        max_calls_per_day: 10_000,
        per_number: {
          max_calls_per_minute: 10_000,
          max_calls_per_15m: 10_000,
          max_calls_per_hour: 10_000,
          max_calls_per_day: 10_000,
        },
      },
    });
    const line = await openSimLine({ speed: 1000 });
    const driver = await openDriver(config.line, { stateDir: config.state_dir, logger: silentLogger(), line });
    const gateway = await startGateway({ config, driver, logger: silentLogger(), metricsListen: null });
    const nc = await connect({ servers: server.url });
    await ensureStreams(nc, subjects);
    const js = jetstreamClient(nc);
    let offHook: (() => void) | null = null;
    let finished: (() => void) | null = null;
    gateway.events.on('offhook', () => offHook?.());
    gateway.events.on('finished', () => finished?.());

    const latencies: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const a = alert(i);
      line.script({ number: '100', busy: true });
      const seized = new Promise<void>((resolve) => (offHook = resolve));
      const done = new Promise<void>((resolve) => (finished = resolve));
      const start = performance.now();
      await publishDurable(js, subjects.alert(a.severity, a.host), a);
      await seized;
      latencies.push(performance.now() - start);
      await done;
    }
    const baseline = await bareConsumerLatency(server.url, subjects);
    await gateway.stop();
    await line.close();
    await nc.drain();
    report({
      bench: 'gateway',
      rows: [
        {
          name: 'alert publish → off hook p50',
          value: percentile(latencies, 50),
          unit: 'ms',
          baseline: { name: 'publish → bare consumer p50', value: percentile(baseline, 50) },
        },
        {
          name: 'alert publish → off hook p99',
          value: percentile(latencies, 99),
          unit: 'ms',
          baseline: { name: 'publish → bare consumer p99', value: percentile(baseline, 99) },
          note: `goal ≤ 200 ms; ${SAMPLES} alerts, idle line, sim speed 1000`,
        },
        { name: 'alert publish → off hook max', value: Math.max(...latencies), unit: 'ms' },
      ],
    });
  } finally {
    await server.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
