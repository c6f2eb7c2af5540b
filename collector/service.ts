import {
  connectNats, ensureStreams, InboundValidator, jetstreamClient, openBucket, serveHttp, streamNames, Subjects, systemClock,
  type Clock, type ClockTimer, type HttpEndpoint, type Logger, type NatsConnection, type PartitionClaim, type Registry,
} from '../shared/index.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { AlertRecord } from './alert-record.ts';
import { AlertStore } from './alert-store.ts';
import { CheckpointStore } from './checkpoint.ts';
import { CommitQueue } from './commit-queue.ts';
import type { CollectorConfig } from './config.ts';
import { AlertEngine } from './engine.ts';
import { buildRules } from './engine-rules.ts';
import { readStreamFrom } from './feeds.ts';
import { consumeGatewayEvents, GatewayAlerts } from './gateway-alerts.ts';
import { intakeLimits } from './intake/config.ts';
import { RejectionReport } from './intake/report.ts';
import { storedAtMs } from './intake/stored-at.ts';
import { collectorMetrics } from './metrics.ts';
import { createDispatcher, type NotificationsConfig, type NotificationSink } from './notifiers/index.ts';
import { SilenceStore } from './silence-store.ts';
import { statusRoutes } from './status.ts';
import { serveStatus } from './status-reply.ts';
import { startCollectorWatchdog } from './watchdog/index.ts';

export interface CollectorDeps {
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Tests hand in a recording sink; otherwise the notifiers' dispatcher is built from config. */
  sink?: NotificationSink;
  /** How long one pull on the EVENTS/ACKS feeds waits (tests make it outlive them to show recovery comes from the reconnect). */
  feedPullExpiryMs?: number;
  /** The partitions this member owns, for its watchdog heartbeat (one collector: { count: 1, owned: [0] }). */
  partitions?: () => PartitionClaim;
}

export interface RunningCollector {
  engine: AlertEngine;
  url: string;
  nc: NatsConnection;
  /** Everything committed so far is in KV, published and handed to the notifiers. */
  idle(): Promise<void>;
  checkpoint(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The collector process: load config, connect, restore state, replay EVENTS from the
 * checkpoint, then follow events, heartbeats, acks and silences; serve metrics and the
 * status page; stop cleanly.
 */
export async function startCollector(config: CollectorConfig, deps: CollectorDeps): Promise<RunningCollector> {
  const clock = deps.clock ?? systemClock;
  const { logger, registry } = deps;
  const subjects = new Subjects(config.nats.prefix);
  const nc = await connectNats(config.nats, { name: 'offhook-collector', logger, registry });
  await ensureStreams(nc, subjects, {
    replicas: config.nats.stream_replicas,
    eventsMaxMsgsPerSubject: config.intake.events_max_msgs_per_subject,
  });
  const streams = streamNames(subjects);
  const store = new AlertStore(await openBucket(nc, subjects, 'alerts'), logger);
  const checkpoints = new CheckpointStore(await openBucket(nc, subjects, 'checkpoints'), logger);
  const silenceStore = new SilenceStore(await openBucket(nc, subjects, 'silences'), logger);
  const dispatcher = deps.sink ? null : await createDispatcher(config.notifications as NotificationsConfig, { nc, subjects, logger, registry, clock });
  const sink: NotificationSink = deps.sink ?? dispatcher!;

  let engine: AlertEngine | undefined;
  const metrics = collectorMetrics(registry, {
    records: () => engine?.records.values() ?? [],
    hostStates: () => (engine ? [...engine.hosts().keys()].map((host) => engine!.hostDown(host)) : []),
  });
  const rejections = new RejectionReport(metrics.rejected, logger, () => clock.now());
  const queue = new CommitQueue({ store, js: jetstreamClient(nc), subjects, sink, logger, metrics, clock });
  engine = new AlertEngine({
    rules: buildRules(config.rules, config.defaults),
    clock,
    output: queue,
    logger,
    intake: intakeLimits(config.intake),
    observer: {
      eventProcessed: (kind, seconds) => {
        metrics.events.inc({ kind });
        metrics.evaluation.observe({ kind }, seconds);
      },
      duplicateEvent: () => metrics.duplicates.inc(),
      rejectedEvent: (reason, event) => rejections.rejected(reason, event),
      ruleFailed: (rule) => metrics.ruleErrors.inc({ rule }),
    },
  });
  const running = engine;

  const records = await store.loadAll();
  const saved = await checkpoints.load(config.rules.map((r) => r.name));
  redoOutboxes(queue, records);
  running.load(records, saved);
  logger.info({ alerts: records.length, resumeAfterSeq: running.state.streamSeq, ackSeq: running.state.ackSeq, rules: config.rules.length }, 'collector state restored');

  await rebaseIfStreamsWereReset(nc, streams, running, logger);

  const validator = new InboundValidator(registry, logger, subjects, () => clock.now());
  const silenceWatch = await silenceStore.watch((list) => running.setSilences(list));
  const feedOptions = { logger, ...(deps.feedPullExpiryMs ? { expiresMs: deps.feedPullExpiryMs } : {}) };
  const events = await readStreamFrom(nc, streams.events, running.state.streamSeq, feedOptions, (msg) => {
    const decoded = validator.accept(msg.subject, msg.data);
    const isEvent = decoded && (decoded.type === 'resource' || decoded.type === 'check' || decoded.type === 'log');
    if (isEvent) running.handleEvent(decoded.message, msg.seq, storedAtMs(msg));
    else if (msg.seq > running.state.streamSeq) running.state.streamSeq = msg.seq;
  });
  const acks = await readStreamFrom(nc, streams.acks, running.state.ackSeq, feedOptions, (msg) => {
    const decoded = validator.accept(msg.subject, msg.data);
    if (decoded?.type === 'ack') {
      const outcome = running.handleAck(decoded.message);
      logger.info({ fingerprint: decoded.message.fingerprint, by: decoded.message.by, method: decoded.message.method, outcome }, 'acknowledgement received');
    }
    running.state.ackSeq = Math.max(running.state.ackSeq, msg.seq);
  });
  const gatewayAlerts = new GatewayAlerts({ engine: running, output: queue, clock, logger, config: config.gateway_alerts, repeatMs: config.defaults.repeat_interval });
  // Resolution by time runs even when disabled, so alerts raised before it was turned off still end.
  const gatewayEvents = config.gateway_alerts.enabled ? await consumeGatewayEvents(nc, subjects, validator, logger, gatewayAlerts, () => queue.idle()) : null;
  const watchdog = startCollectorWatchdog({
    nc, js: jetstreamClient(nc), subjects, validator, engine: running, output: queue, config: config.watchdog, clock,
    logger, registry,
    repeatMs: config.defaults.repeat_interval, ...(deps.partitions ? { partitions: deps.partitions } : {}),
  });
  const heartbeats = nc.subscribe(subjects.allHeartbeats, {
    callback: (err, msg) => {
      if (err) return;
      const decoded = validator.accept(msg.subject, msg.data);
      try {
        if (decoded?.type === 'heartbeat') running.handleHeartbeat(decoded.message);
      } catch (err) {
        logger.error({ err, subject: msg.subject }, 'heartbeat handling failed');
      }
    },
  });

  let stopped = false;
  let tickTimer: ClockTimer | undefined;
  let checkpointTimer: ClockTimer | undefined;
  let checkpointing: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopped) return;
    try {
      running.tick();
      gatewayAlerts.tick();
      watchdog.tick();
    } catch (err) {
      logger.error({ err }, 'evaluation tick failed');
    }
    tickTimer = clock.setTimeout(tick, config.evaluation_interval);
  };
  // A checkpoint never gets ahead of the alert records: the transitions it covers are written first.
  const checkpoint = (): Promise<void> => {
    checkpointing = checkpointing.then(async () => {
      const snapshot = running.state.snapshot(running.rules);
      await queue.idle();
      try {
        await checkpoints.save(snapshot);
        metrics.checkpointSeq.set(snapshot.streamSeq);
      } catch (err) {
        logger.warn({ err }, 'checkpoint failed; will retry at the next interval');
      }
    });
    return checkpointing;
  };
  const scheduleCheckpoint = (): void => {
    if (stopped) return;
    checkpointTimer = clock.setTimeout(() => void checkpoint().then(scheduleCheckpoint), config.checkpoint_interval);
  };
  tick();
  scheduleCheckpoint();

  const statusDeps = { engine: running, queue, clock };
  const http: HttpEndpoint = await serveHttp(config.listen, registry, { logger, routes: statusRoutes(statusDeps) });
  const statusReplies = serveStatus(nc, subjects, statusDeps, logger);
  logger.info({ url: http.url, rules: config.rules.length }, 'collector running');

  return {
    engine: running,
    url: http.url,
    nc,
    idle: () => queue.idle(),
    checkpoint,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (tickTimer) clock.clearTimeout(tickTimer);
      if (checkpointTimer) clock.clearTimeout(checkpointTimer);
      events.stop();
      acks.stop();
      await gatewayEvents?.stop();
      heartbeats.unsubscribe();
      watchdog.stop();
      statusReplies.unsubscribe();
      silenceWatch.stop();
      await checkpoint();
      await queue.idle();
      await dispatcher?.idle();
      await dispatcher?.close();
      await http.close();
      await nc.drain();
      logger.info('collector stopped');
    },
  };
}

/** A stream behind the checkpoint was deleted and recreated; reading "after" the old position would skip everything. */
async function rebaseIfStreamsWereReset(nc: NatsConnection, streams: ReturnType<typeof streamNames>, engine: AlertEngine, logger: Logger): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const events = await jsm.streams.info(streams.events);
  if (events.state.last_seq < engine.state.streamSeq) {
    logger.warn({ stream: streams.events, lastSeq: events.state.last_seq, checkpointSeq: engine.state.streamSeq }, 'EVENTS stream is behind the checkpoint (recreated?): reading it from the start');
    engine.rebaseEventSequence();
  }
  const acks = await jsm.streams.info(streams.acks);
  if (acks.state.last_seq < engine.state.ackSeq) {
    logger.warn({ stream: streams.acks, lastSeq: acks.state.last_seq, checkpointSeq: engine.state.ackSeq }, 'ACKS stream is behind the checkpoint (recreated?): reading it from the start');
    engine.state.ackSeq = 0;
  }
}

/** Announcements written but not confirmed before a crash are performed again (deduplicated downstream). */
function redoOutboxes(queue: CommitQueue, records: AlertRecord[]): void {
  for (const record of records) {
    if (record.outbox.length === 0) continue;
    queue.commit(structuredClone(record));
    record.outbox = [];
  }
}
