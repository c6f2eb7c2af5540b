import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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
  type Logger,
} from '../../shared/index.ts';
import type { GatewayConfig, GatewayConfigInput } from '../../telephony-gateway/config.ts';
import type { LineDriver } from '../../telephony-gateway/drivers/driver.ts';
import { Speech } from '../../telephony-gateway/calls/speech.ts';
import { startGateway, type RunningGateway } from '../../telephony-gateway/gateway.ts';
import { openDriver } from '../../telephony-gateway/drivers/open.ts';
import { connectTo, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { gatewayConfig } from './helpers.ts';

/** Line time runs this many times faster than real time in the end-to-end tests. */
export const SIM_SPEED = 100;

/** Shared speech cache across suites: espeak renders each prompt once per run. */
export const speechStateDir = mkdtempSync(join(tmpdir(), 'offhook-gw-speech-'));

/** The speech file (its name in the shared cache) the test gateways play for `text` as an alert message. */
export async function speechFileOf(text: string): Promise<string> {
  const speech = new Speech({
    cacheDir: join(speechStateDir, 'speech'),
    voice: 'en',
    wordsPerMinute: 150,
    maxChars: 600,
  });
  return basename(await speech.render(text, 'alert'));
}

/** A gateway started in this process, with what it published on NATS and the events it emitted, to wait on. */
export interface WatchedGateway {
  gateway: RunningGateway;
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
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Stops the gateway, closes its line (or driver), drains the connection. */
  stop(): Promise<void>;
}

/** The gateway on the simulated line. */
export interface TestGateway extends WatchedGateway {
  line: SimLine;
  transcript(): TranscriptEntry[];
}

/** Per-number limits high enough that no test call is held back by them (GoAlert's defaults would). */
export const UNTHROTTLED = {
  max_calls_per_minute: 100,
  max_calls_per_15m: 100,
  max_calls_per_hour: 100,
  max_calls_per_day: 100,
};

/** Every off hook is followed by an on hook before the next off hook: never two calls at once. */
export { assertOneCallAtATime } from '../helpers/transcript.ts';

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

/** Runs the real gateway in this process against a real nats-server and the simulated line. */
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
    budget: { per_number: UNTHROTTLED, ...input.budget },
  });
  const line = await openSimLine({ speed: SIM_SPEED, ...sim });
  // OFFHOOK_TEST_LOG=1 shows the gateway's own log while debugging a test.
  const logger = process.env.OFFHOOK_TEST_LOG ? createLogger('gateway', { level: 'debug' }) : silentLogger();
  const driver = await openDriver(config.line, {
    stateDir: config.state_dir,
    logger,
    line,
    ...(clock ? { clock } : {}),
  });
  const watched = await startWatchedGateway(server, config, driver, {
    logger,
    close: () => line.close(),
    ...(clock ? { clock } : {}),
  });
  return { ...watched, line, transcript: () => line.transcript() };
}

/**
 * Starts the gateway on `driver` and watches it: every call record, ack, fallback and gateway event it publishes under
 * the config's prefix, and its finished/offhook/queued/handled events, each waking `waitFor`. `close` ends the line
 * after the gateway stopped (the test opened it).
 */
export async function startWatchedGateway(
  server: EmbeddedNatsServer,
  config: GatewayConfig,
  driver: LineDriver,
  options: { logger: Logger; close: () => Promise<void>; clock?: Clock; waitTimeoutMs?: number },
): Promise<WatchedGateway> {
  const { logger, clock } = options;
  const nc = await connectTo(server);
  const subjects = new Subjects(config.nats.prefix);
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
    waitFor(what, condition, timeoutMs = options.waitTimeoutMs ?? 20_000) {
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
      await options.close();
      await nc.drain();
    },
  };
}

export function removeSpeechCache(): void {
  rmSync(speechStateDir, { recursive: true, force: true });
}
