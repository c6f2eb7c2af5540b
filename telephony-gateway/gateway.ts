import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  InboundValidator,
  Subjects,
  connectNats,
  createRegistry,
  ensureStreams,
  hostToken,
  jetstreamClient,
  openBucket,
  serveHttp,
  systemClock,
  type Clock,
  type HttpEndpoint,
  type Logger,
  type Registry,
  UsageError,
} from '../shared/index.ts';
import { AckWatcher } from './intake/ack-watcher.ts';
import { startAlertmanagerBridge, type AlertmanagerBridge } from './alertmanager/index.ts';
import { AlertConsumer } from './intake/alert-consumer.ts';
import { Budget } from './calls/budget.ts';
import { CallScript, callSettingsFrom } from './calls/call-script.ts';
import { callTemplate } from './calls/call-template.ts';
import type { GatewayConfig } from './config.ts';
import { control } from './line/control.ts';
import { serveStatus } from './status/status.ts';
import type { LineDriver } from './drivers/driver.ts';
import { InboundScript, type LockoutState } from './inbound/inbound.ts';
import { AlertIntake } from './intake/intake.ts';
import { LineActivity } from './line/line-activity.ts';
import { LineWorker } from './line/line-worker.ts';
import { serveVoiceNotes } from './line/voice-notes.ts';
import { gatewayMetrics } from './status/metrics.ts';
import type { GatewayPublisher } from './status/publisher.ts';
import { CallQueue } from './calls/queue.ts';
import { Speech } from './calls/speech.ts';
import type { StateStore } from './state-store.ts';
import { MENU_TEXT } from './calls/wording.ts';
import { connectOrPhone } from './watchdog/offline-phone.ts';
import { GatewayWatchdog } from './watchdog/watchdog.ts';

export interface GatewayOptions {
  config: GatewayConfig;
  /** The line, opened by drivers/open.ts `openDriver(config.line, ...)`; whoever opened it closes it. */
  driver: LineDriver;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  /** Aborted when the process is asked to stop: a start still connecting to NATS gives up. */
  stopping?: AbortSignal;
  /** Serve /metrics (null = do not listen). */
  metricsListen?: string | null;
  /**
   * Serve the Alertmanager webhook here (overrides `alertmanager.listen`; needs the `alertmanager:` section for its
   * auth).
   */
  webhookListen?: string;
}

export interface RunningGateway {
  gatewayHost: string;
  /**
   * `offhook` (fingerprints) when the line is seized for an alert call, `finished` (fingerprint, reason) when an
   * escalation ends.
   */
  events: AlertIntake['events'];
  queue: CallQueue;
  worker: LineWorker;
  registry: Registry;
  nc: NatsConnection;
  http: HttpEndpoint | null;
  /** The Alertmanager webhook receiver, when it is on. */
  alertmanager: AlertmanagerBridge | null;
  /** Phones about offhook itself being blind (telephony-gateway/watchdog). */
  watchdog: GatewayWatchdog;
  stop(): Promise<void>;
}

/** Wires the gateway: NATS streams and state, the alert consumer and ack watcher, and the one line worker. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const registry = options.registry ?? createRegistry('gateway');
  const gatewayHost = hostToken(config.gateway_host ?? hostname());
  const subjects = new Subjects(config.nats.prefix);
  const metrics = gatewayMetrics(registry, config.budget.currency);
  const webhookListen = options.webhookListen ?? config.alertmanager?.listen;
  if (webhookListen && !config.alertmanager)
    throw new UsageError(
      '--webhook-listen needs an alertmanager: section in the gateway config (at least auth:, ' +
        'see telephony-gateway/alertmanager/README.md)',
    );

  await mkdir(join(config.state_dir, 'voice-notes'), { recursive: true });
  const speech = new Speech({
    cacheDir: join(config.state_dir, 'speech'),
    voice: config.speech.voice,
    wordsPerMinute: config.speech.words_per_minute,
    maxChars: config.speech.max_chars,
    ...(config.speech.recordings_dir ? { recordingsDir: config.speech.recordings_dir } : {}),
  });
  // Fail at start, not during the first 3 a.m. call, when espeak-ng or sox is missing.
  await speech.render(MENU_TEXT, 'menu');

  // The console's phone panel shows what the line does and what was said (line/line-activity.ts).
  const activity = new LineActivity(options.driver, clock);
  const { driver } = activity;
  // Started while NATS is down: the watchdog phones from config and local files until NATS answers.
  const name = `offhook-gateway-${gatewayHost}`;
  const signal = options.stopping;
  const connect = (): Promise<NatsConnection> =>
    connectNats(config.nats, { name, logger, registry, ...(signal ? { signal } : {}) });
  const offline = { config, gatewayHost, prefix: subjects.prefix, driver, speech, metrics, logger, clock };
  const nc = await connectOrPhone(connect, offline);
  await ensureStreams(nc, subjects, { replicas: config.nats.stream_replicas });
  const js = jetstreamClient(nc);
  // The watchdog's store and publisher keep the budget locally and never hold the line on an unreachable NATS.
  const watchdog = new GatewayWatchdog({ nc, subjects, gatewayConfig: config, gatewayHost, logger, clock, registry });
  const store: StateStore = await watchdog.stateStore(await openBucket(nc, subjects, 'gateway'));
  const validator = new InboundValidator(registry, logger, subjects, () => clock.now());
  const publisher: GatewayPublisher = watchdog.publisher(js);

  const queue = new CallQueue(config.people, config.escalation);
  const budget = new Budget(config.budget);
  budget.load(await store.loadBudget());
  const message = config.speech.templates?.message;
  const callSettings = {
    ...callSettingsFrom(config),
    ...(message === undefined ? {} : { message: callTemplate(message, logger, registry) }),
  };
  const callScript = new CallScript(driver, speech, callSettings, () => clock.now());
  const inboundSettings = {
    digitTimeoutMs: config.line.digit_timeout,
    voiceNoteDir: join(config.state_dir, 'voice-notes'),
    persist: (state: LockoutState) => store.saveLockouts(state),
  };
  const inbound = new InboundScript(driver, speech, config.people, config.inbound, inboundSettings, () => clock.now());
  inbound.loadLockouts(await store.loadLockouts());

  const acks = new AckWatcher(js, subjects, validator);
  const consumer = new AlertConsumer(nc, js, subjects, validator, logger, {
    durableName: `gateway-${gatewayHost}`,
    ackWaitMs: config.ack_wait,
    catchUpMs: config.alerts.catch_up,
  });
  let worker: LineWorker | null = null;
  const intake = new AlertIntake(
    queue,
    config,
    acks,
    store,
    (fp) => consumer.release(fp),
    metrics,
    logger,
    clock,
    () => worker?.wake(),
  );
  worker = new LineWorker({
    config,
    gatewayHost,
    driver,
    queue,
    intake,
    budget,
    callScript,
    inbound,
    acks,
    publisher,
    store,
    metrics,
    logger,
    clock,
    activity,
  });
  worker.updateBudgetGauges();
  worker.updatePinGauges();
  metrics.lineUp.set(1);

  await acks.start(
    (ack) =>
      void intake
        .onAck(ack)
        .catch((err: Error) => logger.error({ err, fingerprint: ack.fingerprint }, 'handling an ack failed')),
  );
  await consumer.ensure();
  const backlog = await consumer.pendingAtStart();
  const running = worker;
  if (backlog === 0) running.setReady();
  const lineUp = async (): Promise<boolean> => ((await metrics.lineUp.get()).values[0]?.value ?? 1) === 1;
  watchdog.attach({ queue, intake, worker: running, validator, lineUp });
  await consumer.start(async (delivery) => {
    // The collector's canary proves the path from the rules to here; it never rings a phone.
    const disposition = watchdog.takeCanary(delivery.alert) ? 'ack' : await intake.onAlert(delivery);
    if (delivery.pending === 0) running.setReady();
    return disposition;
  });
  const controlSub = control(nc, subjects, gatewayHost, running, logger);
  const voiceNotesSub = serveVoiceNotes(nc, subjects, gatewayHost, inboundSettings.voiceNoteDir, logger);
  const statusSub = serveStatus(
    nc,
    subjects,
    { gatewayHost, driver, worker: running, queue, budget, metrics, clock, watchdog, people: config.people, activity },
    logger,
  );
  running.start();
  watchdog.start();

  const alertmanager =
    webhookListen && config.alertmanager
      ? await startAlertmanagerBridge({
          config: config.alertmanager,
          listen: webhookListen,
          nc,
          js,
          subjects,
          gatewayHost,
          validator,
          logger,
          registry,
          clock,
        })
      : null;
  const http =
    options.metricsListen === null
      ? null
      : await serveHttp(options.metricsListen ?? config.metrics_listen, registry, { logger });
  logger.info(
    { gatewayHost, line: driver.name, people: config.people.length, backlog, metrics: http?.url },
    'gateway started',
  );

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await watchdog.stop();
      controlSub.unsubscribe();
      voiceNotesSub.unsubscribe();
      statusSub.unsubscribe();
      await alertmanager?.close();
      await running.stop();
      await consumer.stop();
      intake.ended.stop();
      acks.stop();
      await http?.close();
      await publisher.settle();
      await nc.drain().catch((err: unknown) => logger.debug({ err }, 'NATS drain at shutdown failed'));
      logger.info('gateway stopped');
    })());
  return {
    gatewayHost,
    events: intake.events,
    queue,
    worker: running,
    registry,
    nc,
    http,
    alertmanager,
    watchdog,
    stop,
  };
}
