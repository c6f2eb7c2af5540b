import {
  connectNats,
  ensureStreams,
  InboundValidator,
  jetstreamClient,
  openBucket,
  serveHttp,
  streamNames,
  Subjects,
  systemClock,
  type Clock,
  type ClockTimer,
  type HttpEndpoint,
  type Logger,
  type NatsConnection,
  type PartitionClaim,
  type Registry,
} from '../shared/index.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { randomUUID } from 'node:crypto';
import type { AlertRecord } from './alerts/index.ts';
import { AlertStore } from './alerts/index.ts';
import type { CollectorConfig } from './config.ts';
import { AlertEngine, type EngineOutput } from './alerts/index.ts';
import { consumeGatewayEvents, GatewayAlerts } from './alerts/index.ts';
import { alertPartition, CollectorGroup, partitionOf } from './group/index.ts';
import { RejectionReport, StreamHead } from './intake/index.ts';
import { collectorMetrics } from './metrics.ts';
import { createDispatcher, type NotificationsConfig, type NotificationSink } from './notify/index.ts';
import { PartitionFeeds } from './group/partition-feeds.ts';
import { PartitionRuntime } from './group/partition.ts';
import type { DurableIntake } from './intake/index.ts';
import type { Silence } from './silences/index.ts';
import { SilenceStore } from './silences/index.ts';
import { statusRoutes, type PartitionStatus } from './status/index.ts';
import { serveStatus } from './status/index.ts';
import { groupView } from './group/group-view.ts';
import { startConsole } from './console/index.ts';
import { startCollectorWatchdog } from './watchdog/index.ts';
import { memberId } from './watchdog/config.ts';

export interface CollectorDeps {
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Aborted when the process is asked to stop: a start still connecting to NATS gives up. */
  stopping?: AbortSignal;
  /** Tests hand in a recording sink; otherwise the notifiers' dispatcher is built from config. */
  sink?: NotificationSink;
  /**
   * How long one pull on the EVENTS/ACKS feeds waits (tests make it outlive them to show recovery comes from the
   * reconnect).
   */
  feedPullExpiryMs?: number;
  /** Overrides the partitions this member reports in its watchdog heartbeat (default: what its group holds). */
  partitions?: () => PartitionClaim;
}

export interface RunningCollector {
  /** Partition 0's engine (a lone collector's only one); a placeholder while another member holds partition 0. */
  readonly engine: AlertEngine;
  url: string;
  nc: NatsConnection;
  group: CollectorGroup;
  /** Everything committed so far is in KV, published and handed to the notifiers. */
  idle(): Promise<void>;
  checkpoint(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The collector process: load config, connect, join the collector group, and for each partition it is given
 * restore state and replay EVENTS from that partition's checkpoint; follow events, heartbeats, acks and silences;
 * serve metrics and the status page; hand its partitions over and stop cleanly.
 */
export async function startCollector(config: CollectorConfig, deps: CollectorDeps): Promise<RunningCollector> {
  const clock = deps.clock ?? systemClock;
  const { logger, registry } = deps;
  const count = config.group.partitions;
  const member = memberId(config.watchdog);
  const subjects = new Subjects(config.nats.prefix);
  const signal = deps.stopping;
  const nc = await connectNats(config.nats, {
    name: 'offhook-collector',
    logger,
    registry,
    ...(signal ? { signal } : {}),
  });
  await ensureStreams(nc, subjects, {
    replicas: config.nats.stream_replicas,
    eventsMaxMsgsPerSubject: config.intake.events_max_msgs_per_subject,
  });
  const streams = streamNames(subjects);
  const store = new AlertStore(await openBucket(nc, subjects, 'alerts'), logger);
  const checkpointsKv = await openBucket(nc, subjects, 'checkpoints');
  const silenceStore = new SilenceStore(await openBucket(nc, subjects, 'silences'), logger);
  // Pending notifications are resumed per partition as the group hands them to this run (resumeOrphans below).
  const owner = { member, run: randomUUID() };
  const dispatcher = deps.sink
    ? null
    : await createDispatcher(config.notifications as NotificationsConfig, {
        nc,
        subjects,
        logger,
        registry,
        clock,
        owner,
        resumeAtStart: false,
      });
  const sink: NotificationSink = deps.sink ?? dispatcher!;
  const js = jetstreamClient(nc);

  const runtimes = new Map<number, PartitionRuntime>();
  const head = new StreamHead(clock);
  const metrics = collectorMetrics(registry, {
    clockSkewMs: () => head.skewMs(),
    records: () => [...runtimes.values()].flatMap((r) => [...r.engine.records.values()]),
    hostStates: () =>
      [...runtimes.values()].flatMap((r) => {
        return [...r.engine.hosts().keys()].map((host) => r.engine.hostDown(host));
      }),
  });
  const rejections = new RejectionReport(metrics.rejected, logger, () => clock.now());
  // Stands in for partition 0 while another member holds it: the watchdog and gateway intakes see an empty engine.
  const idleEngine = new AlertEngine({ rules: [], clock, output: { commit: () => undefined }, logger });
  const p0 = (): AlertEngine => runtimes.get(0)?.engine ?? idleEngine;
  const p0Engine = new Proxy(idleEngine, {
    get: (_target, prop) => {
      const engine = p0();
      const value: unknown = Reflect.get(engine, prop, engine);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(engine) : value;
    },
  });
  const p0Output: EngineOutput = { commit: (record) => runtimes.get(0)?.queue.commit(record) };

  let silences: Silence[] = [];
  const validator = new InboundValidator(registry, logger, subjects, () => clock.now());
  const feeds = new PartitionFeeds({
    nc,
    clock,
    streams,
    validator,
    subjects,
    logger,
    count,
    runtimes,
    head,
    streamInfoFailures: metrics.streamInfoFailures,
    ...(deps.feedPullExpiryMs ? { expiresMs: deps.feedPullExpiryMs } : {}),
  });
  const gatewayAlerts = new GatewayAlerts({
    engine: p0Engine,
    output: p0Output,
    clock,
    logger,
    config: config.gateway_alerts,
    repeatMs: config.defaults.repeat_interval,
  });
  let gatewayEvents: DurableIntake | null = null;
  // Read once per group round that takes partitions, after their leases are ours (CollectorGroup.load).
  let records: AlertRecord[] = [];

  const group: CollectorGroup = new CollectorGroup(checkpointsKv, {
    member,
    config: config.group,
    clock,
    logger,
    fences: metrics.leaseFences,
    handler: {
      prepare: async () => {
        records = await store.loadAll();
      },
      acquired: async () => {
        records = [];
        await feeds.restart();
      },
      acquire: async (partition, fence) => {
        // Before the engine redoes outboxes: a redone notification then finds the resumed one in flight.
        await resumeOrphans([partition]);
        const runtime = await PartitionRuntime.open(
          {
            partition,
            count,
            config,
            store,
            checkpoints: checkpointsKv,
            js,
            subjects,
            sink,
            logger,
            metrics,
            clock,
            rejections,
            fence,
            head,
          },
          records,
        );
        await rebaseIfStreamsWereReset(nc, streams, runtime.engine, runtime.logger);
        runtime.setSilences(silences);
        runtimes.set(partition, runtime);
        // Resolution by time runs even when disabled, so alerts raised before it was turned off still end.
        if (partition === 0 && config.gateway_alerts.enabled) {
          const settled = (): Promise<void> => runtime.queue.idle();
          gatewayEvents = await consumeGatewayEvents(nc, subjects, validator, logger, gatewayAlerts, settled);
        }
      },
      release: async (partition) => {
        if (partition === 0) await stopGatewayEvents();
        await runtimes.get(partition)?.close();
        runtimes.delete(partition);
      },
      lost: (partition) => {
        if (partition === 0) void stopGatewayEvents();
        runtimes.get(partition)?.abandon();
        runtimes.delete(partition);
      },
      membersLeft: async () => {
        try {
          await resumeOrphans(group.claim().owned);
        } catch (err) {
          logger.warn({ err }, 'cannot resume the notifications of members that left; the next takeover retries');
        }
      },
      position: (partition) => runtimes.get(partition)?.engine.state.streamSeq ?? 0,
    },
  });
  /**
   * A pending notification is resumed by its partition's holder, and only when no live run is still sending it:
   * accepted by an older version (no owner), by a member that is gone, or by this member's previous run.
   */
  const resumeOrphans = async (held: number[]): Promise<void> => {
    if (!dispatcher) return;
    await dispatcher.resumePending((pending) => {
      if (!held.includes(alertPartition(pending.alert, count))) return false;
      if (!pending.member) return true;
      return pending.member === member ? pending.run !== owner.run : !group.isLive(pending.member);
    });
  };
  const stopGatewayEvents = async (): Promise<void> => {
    const intake = gatewayEvents;
    gatewayEvents = null;
    await intake?.stop();
  };

  const silenceWatch = await silenceStore.watch((list) => {
    silences = list;
    idleEngine.setSilences(list);
    for (const runtime of runtimes.values()) runtime.setSilences(list);
  });
  await group.start();
  logger.info({ member, partitions: count, owned: group.claim().owned }, 'collector group joined');

  const watchdog = startCollectorWatchdog({
    nc,
    js,
    subjects,
    validator,
    engine: p0Engine,
    output: p0Output,
    config: config.watchdog,
    clock,
    logger,
    registry,
    repeatMs: config.defaults.repeat_interval,
    partitions: deps.partitions ?? (() => group.claim()),
  });
  const heartbeats = nc.subscribe(subjects.allHeartbeats, {
    callback: (err, msg) => {
      if (err) return;
      const decoded = validator.accept(msg.subject, msg.data);
      try {
        if (decoded?.type !== 'heartbeat') return;
        runtimes.get(partitionOf(decoded.message.host, count))?.handleHeartbeat(decoded.message);
      } catch (err) {
        logger.error({ err, subject: msg.subject }, 'heartbeat handling failed');
      }
    },
  });

  let stopped = false;
  let tickTimer: ClockTimer | undefined;
  let checkpointTimer: ClockTimer | undefined;
  let ticks = 0;
  const tick = (): void => {
    if (stopped) return;
    try {
      for (const runtime of runtimes.values()) runtime.tick();
      // The gateway and watchdog alerts are partition 0's: only its owner raises and resolves them.
      if (runtimes.has(0)) {
        gatewayAlerts.tick();
        watchdog.tick();
      }
    } catch (err) {
      logger.error({ err }, 'evaluation tick failed');
    }
    head.checkSkew(logger);
    // A partition behind the head (replaying, or the feed said more is pending): how far the head has moved since.
    const behind = [...runtimes.values()].some((runtime) => runtime.engine.state.streamSeq < head.seq);
    if (behind || (count > 1 && ticks % 5 === 0)) feeds.refresher.poke();
    ticks++;
    tickTimer = clock.setTimeout(tick, config.evaluation_interval);
  };
  const checkpoint = async (): Promise<void> => {
    await Promise.all([...runtimes.values()].map((runtime) => runtime.checkpoint()));
  };
  const scheduleCheckpoint = (): void => {
    if (stopped) return;
    checkpointTimer = clock.setTimeout(() => void checkpoint().then(scheduleCheckpoint), config.checkpoint_interval);
  };
  tick();
  scheduleCheckpoint();

  const partitions = (): PartitionStatus[] =>
    group.partitionOwners().map(({ partition, member: owner, seq }) => {
      const position = runtimes.get(partition)?.engine.state.streamSeq ?? seq;
      return { partition, member: owner, seq: position, lag: Math.max(0, head.seq - position) };
    });
  const statusDeps = { ...groupView(runtimes, idleEngine, clock), clock, ...(count > 1 ? { partitions } : {}) };
  const webConsole = config.console.enabled
    ? await startConsole({
        config: config.console,
        nc,
        subjects,
        logger,
        registry,
        clock,
        member,
        engineHosts: () => statusDeps.engine.hosts(),
      })
    : null;
  // The console's prefix routes go first: '/' of the status page matches every path.
  const routes = { ...webConsole?.routes, ...statusRoutes(statusDeps) };
  const http: HttpEndpoint = await serveHttp(config.listen, registry, { logger, routes });
  const statusReplies = serveStatus(nc, subjects, statusDeps, logger);
  logger.info({ url: http.url, rules: config.rules.length }, 'collector running');

  return {
    get engine() {
      return p0();
    },
    url: http.url,
    nc,
    group,
    idle: async () => {
      await Promise.all([...runtimes.values()].map((runtime) => runtime.queue.idle()));
    },
    checkpoint,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (tickTimer) clock.clearTimeout(tickTimer);
      if (checkpointTimer) clock.clearTimeout(checkpointTimer);
      feeds.close();
      heartbeats.unsubscribe();
      watchdog.stop();
      statusReplies.unsubscribe();
      webConsole?.stop();
      silenceWatch.stop();
      // Hands every partition over (checkpointed, everything told) so the others need not wait for the lease timeout.
      await group.stop();
      await stopGatewayEvents();
      await dispatcher?.idle();
      await dispatcher?.close();
      await http.close();
      await nc.drain();
      logger.info('collector stopped');
    },
  };
}

/** A stream behind the checkpoint was deleted and recreated; reading "after" the old position would skip everything. */
async function rebaseIfStreamsWereReset(
  nc: NatsConnection,
  streams: ReturnType<typeof streamNames>,
  engine: AlertEngine,
  logger: Logger,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const events = await jsm.streams.info(streams.events);
  if (events.state.last_seq < engine.state.streamSeq) {
    logger.warn(
      { stream: streams.events, lastSeq: events.state.last_seq, checkpointSeq: engine.state.streamSeq },
      'EVENTS stream is behind the checkpoint (recreated?): reading it from the start',
    );
    engine.rebaseEventSequence();
  }
  const acks = await jsm.streams.info(streams.acks);
  if (acks.state.last_seq < engine.state.ackSeq) {
    logger.warn(
      { stream: streams.acks, lastSeq: acks.state.last_seq, checkpointSeq: engine.state.ackSeq },
      'ACKS stream is behind the checkpoint (recreated?): reading it from the start',
    );
    engine.state.ackSeq = 0;
  }
}
