import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { openSimLine } from '../../native/index.ts';
import type { SimLine, TranscriptEntry } from '../../native/line.ts';
import {
  Ack,
  CallRecord,
  FallbackRequest,
  GatewayEvent,
  Subjects,
  ensureStreams,
  jetstreamClient,
  newId,
  publishDurable,
  silentLogger,
  createLogger,
  SCHEMA_VERSION,
  type Alert,
  type Clock,
} from '../../shared/index.ts';
import type { GatewayConfigInput } from '../../telephony-gateway/config.ts';
import { startGateway, type RunningGateway } from '../../telephony-gateway/gateway.ts';
import { openDriver } from '../../telephony-gateway/drivers/open.ts';
import { connectTo, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { gatewayConfig } from './helpers.ts';

/** Line time runs this many times faster than real time in the end-to-end tests. */
export const SIM_SPEED = 100;

/** Shared speech cache across suites: espeak renders each prompt once per run. */
export const speechStateDir = mkdtempSync(join(tmpdir(), 'offhook-gw-speech-'));

export interface TestGateway {
  gateway: RunningGateway;
  line: SimLine;
  nc: NatsConnection;
  subjects: Subjects;
  calls: CallRecord[];
  acks: Ack[];
  fallbacks: FallbackRequest[];
  gatewayEvents: GatewayEvent[];
  finished: Array<{ fingerprint: string; reason: string }>;
  /** Fingerprints of alert messages the gateway has taken in (queued or not). */
  handled: string[];
  /** The fingerprints of each call, as the line was seized for it. */
  offHooks: string[][];
  publish(alert: Alert): Promise<void>;
  publishAck(alert: Alert, method: Ack['method']): Promise<void>;
  /** Resolves once `condition()` holds, re-checked on every message or gateway event; rejects after `timeoutMs`. */
  waitFor(what: string, condition: () => boolean, timeoutMs?: number): Promise<void>;
  transcript(): TranscriptEntry[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

/** Every off hook is followed by an on hook before the next off hook: never two calls at once. */
export { assertOneCallAtATime } from '../helpers/transcript.ts';

/** Runs the real gateway in this process against a real nats-server and the simulated line. */
/**
 * Collects every message on `subject` into `into` (validated by `parse`) and signals `changed`, so tests wait on
 * outcomes.
 */
export function followInto<T>(
  nc: NatsConnection,
  changed: EventEmitter,
  subject: string,
  parse: (data: unknown) => T,
  into: T[],
): void {
  nc.subscribe(subject, {
    callback: (_err, msg) => {
      into.push(parse(msg.json()));
      changed.emit('change');
    },
  });
}

export async function startTestGateway(
  server: EmbeddedNatsServer,
  input: Partial<GatewayConfigInput>,
  prefix: string,
  sim: { noDialTone?: boolean } = {},
  /** The gateway's clock (budget windows, escalation waits); the sim line keeps its own time. */
  clock?: Clock,
): Promise<TestGateway> {
  const config = gatewayConfig({
    gateway_host: 'gw1',
    state_dir: speechStateDir,
    nats: { servers: [server.url], prefix },
    ack_wait: '2s',
    // No collector runs beside these gateways: the watchdog would phone about that;
    // test/telephony-gateway/watchdog/watchdog.test.ts turns it on.
    watchdog: { enabled: false },
    ...input,
    line: { backend: 'sim', answer_timeout: '20s', digit_timeout: '8s', ...input.line },
    budget: {
      per_number: {
        max_calls_per_minute: 100,
        max_calls_per_15m: 100,
        max_calls_per_hour: 100,
        max_calls_per_day: 100,
      },
      ...input.budget,
    },
  });
  const line = await openSimLine({ speed: SIM_SPEED, ...sim });
  const nc = await connectTo(server);
  const subjects = new Subjects(prefix);
  await ensureStreams(nc, subjects);
  const js = jetstreamClient(nc);
  const changed = new EventEmitter();
  changed.setMaxListeners(100);
  const calls: CallRecord[] = [];
  const acks: Ack[] = [];
  const fallbacks: FallbackRequest[] = [];
  const gatewayEvents: GatewayEvent[] = [];
  const finished: Array<{ fingerprint: string; reason: string }> = [];
  const handled: string[] = [];
  const offHooks: string[][] = [];
  const follow = <T>(subject: string, parse: (data: unknown) => T, into: T[]): void =>
    followInto(nc, changed, subject, parse, into);
  follow(subjects.allCalls, (d) => CallRecord.parse(d), calls);
  follow(subjects.allAcks, (d) => Ack.parse(d), acks);
  follow(subjects.allFallbacks, (d) => FallbackRequest.parse(d), fallbacks);
  follow(subjects.allGatewayEvents, (d) => GatewayEvent.parse(d), gatewayEvents);
  await nc.flush();

  // OFFHOOK_TEST_LOG=1 shows the gateway's own log while debugging a test.
  const logger = process.env.OFFHOOK_TEST_LOG ? createLogger('gateway', { level: 'debug' }) : silentLogger();
  const driver = await openDriver(config.line, {
    stateDir: config.state_dir,
    logger,
    line,
    ...(clock ? { clock } : {}),
  });
  const gateway = await startGateway({ config, driver, logger, metricsListen: null, ...(clock ? { clock } : {}) });
  gateway.events.on('finished', (fingerprint: string, reason: string) => {
    finished.push({ fingerprint, reason });
    changed.emit('change');
  });
  gateway.events.on('offhook', (fingerprints: string[]) => {
    offHooks.push(fingerprints);
    changed.emit('change');
  });
  gateway.events.on('queued', () => changed.emit('change'));
  gateway.events.on('handled', (fingerprint: string) => {
    handled.push(fingerprint);
    changed.emit('change');
  });

  return {
    gateway,
    line,
    nc,
    subjects,
    calls,
    acks,
    fallbacks,
    gatewayEvents,
    finished,
    handled,
    offHooks,
    async publish(alert) {
      await publishDurable(js, subjects.alert(alert.severity, alert.host), alert);
    },
    async publishAck(alert, method) {
      const ack: Ack = {
        v: SCHEMA_VERSION,
        id: newId(),
        host: alert.host,
        ts: Date.now(),
        fingerprint: alert.fingerprint,
        generation: alert.generation,
        by: 'operator',
        method,
        until: 0,
      };
      await publishDurable(js, subjects.ack(alert.fingerprint), ack);
    },
    waitFor(what, condition, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!condition()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          changed.off('change', check);
        };
        changed.on('change', check);
        check();
      });
    },
    transcript: () => line.transcript(),
    async metric(name, labels = {}) {
      // Histogram series (_count, _sum, _bucket) live under the histogram's own name.
      const metric =
        gateway.registry.getSingleMetric(name) ??
        gateway.registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ''));
      if (!metric) return 0;
      const { values } = await metric.get();
      return values
        .filter(
          (v) =>
            ((v as { metricName?: string }).metricName ?? name) === name &&
            Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
        )
        .reduce((sum, v) => sum + v.value, 0);
    },
    async stop() {
      await gateway.stop();
      await line.close();
      await nc.drain();
    },
  };
}

export function removeSpeechCache(): void {
  rmSync(speechStateDir, { recursive: true, force: true });
}
