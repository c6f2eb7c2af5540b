import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import {
  connectNats,
  createRegistry,
  encodeMessage,
  hostToken,
  jetstreamClient,
  newId,
  OFFHOOK_VERSION,
  SCHEMA_VERSION,
  serveHttp,
  Subjects,
  type HttpEndpoint,
  type Heartbeat,
  type Logger,
  type MetricPoint,
  type NatsConnection,
  type Registry,
} from '../shared/index.ts';
import { NatsSilenceWatch } from './core/nats-silence.ts';
import type { AgentConfig } from './config.ts';
import { pluginFor, type CheckConfig, type CheckOutcome } from './checks/index.ts';
import { createAgentMetrics, type AgentMetrics } from './core/metrics.ts';
import { EventPublisher } from './core/publisher.ts';
import { CheckScheduler, type ScheduledCheck } from './core/scheduler.ts';
import { SequenceCounter } from './core/sequence.ts';
import { lockStateDir } from './core/state-lock.ts';
import { DiskSpool } from './core/spool.ts';
import { LogSource } from './logs/log-source.ts';
import { HostGauges } from './resources/host-gauges.ts';
import { readInventory } from './resources/inventory.ts';
import { ResourceSampler } from './resources/sampler.ts';
import { Deadband } from './resources/deadband.ts';
import { FastGauges, KEY_METRIC } from './resources/fast-gauges.ts';
import { FastTick } from './resources/fast-tick.ts';

const MAX_POINTS_PER_SAMPLE = 5000;
const STATUS_CODE = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;

export interface AgentOptions {
  logger: Logger;
  /** Overrides metrics_listen (the CLI's --metrics-listen; tests pass port 0). */
  metricsListen?: string;
  registry?: Registry;
}

/**
 * One host's agent: checks, resource sampling and log rules feed one publisher; a heartbeat says
 * it is alive; /metrics shows its health and the host's gauges.
 */
export class Agent {
  readonly host: string;
  readonly subjects: Subjects;
  readonly registry: Registry;
  readonly metrics: AgentMetrics;
  readonly publisher: EventPublisher;
  readonly logSources: LogSource[];
  private readonly logger: Logger;
  private readonly sequence: SequenceCounter;
  private readonly scheduler: CheckScheduler;
  private readonly sampler: ResourceSampler;
  private readonly hostGauges: HostGauges;
  private readonly deadband: Deadband;
  private readonly fastGauges: FastGauges;
  private readonly fastTick: FastTick;
  private readonly startedAt = Date.now();
  private nc: NatsConnection | null = null;
  private http: HttpEndpoint | null = null;
  private timers: NodeJS.Timeout[] = [];
  private inventory: MetricPoint[] = [];
  private stopping = false;
  private sampling = false;
  /** A full sample is between reading its gauges and submitting itself (see sampleResources). */
  private readingGauges = false;
  /** Full samples that have read their gauges so far (a fast tick's read that straddles one is dropped). */
  private fullSamples = 0;
  private readonly unlockStateDir: () => void;

  constructor(
    private readonly config: AgentConfig,
    private readonly options: AgentOptions,
  ) {
    this.host = hostToken(config.host ?? hostname());
    this.logger = options.logger.child({ host: this.host });
    this.subjects = new Subjects(config.nats.prefix);
    this.registry = options.registry ?? createRegistry('agent');
    this.metrics = createAgentMetrics(this.registry);
    this.hostGauges = new HostGauges(this.registry);
    mkdirSync(config.state_dir, { recursive: true });
    this.unlockStateDir = lockStateDir(config.state_dir);
    const spool = new DiskSpool(join(config.state_dir, 'spool'), config.spool.max_bytes, (dropped) => {
      this.metrics.spoolDropped.inc(dropped);
      this.logger.warn({ dropped }, 'spool full: dropped the oldest events');
    });
    this.sequence = new SequenceCounter(config.state_dir, spool.maxSeq());
    this.metrics.sequence.set(this.sequence.current);
    this.publisher = new EventPublisher({
      host: this.host,
      subjects: this.subjects,
      spool,
      sequence: this.sequence,
      publishTimeoutMs: config.publish_timeout,
      metrics: this.metrics,
      logger: this.logger,
    });
    const checks: ScheduledCheck[] = (config.checks as CheckConfig[]).map((check) => ({
      config: check,
      instance: pluginFor(check.kind)!.create(check),
    }));
    this.scheduler = new CheckScheduler(
      checks,
      (check, outcome, durationMs, failure) => this.onCheckOutcome(check, outcome, durationMs, failure),
      this.logger,
      {
        retry: config.check_retry,
        connectionWatch: config.connection_watch,
        onEarlyRun: (check, reason, skipped) =>
          (skipped ? this.metrics.checkEarlyRunsSkipped : this.metrics.checkEarlyRuns).inc({
            check: check.config.name,
            reason,
          }),
      },
    );
    const { resources } = config;
    const { processes, filesystems, rootfs } = resources;
    this.sampler = new ResourceSampler({ processes, filesystems, rootfs });
    this.deadband = new Deadband(resources.fast.deadband);
    const mounts = (): ResourceSampler['mounts'] => this.sampler.mounts;
    this.fastGauges = new FastGauges({ filesystems, rootfs, mounts, cpuWindowMs: resources.interval });
    this.fastTick = new FastTick({
      intervalMs: resources.fast.interval,
      read: () => this.fastGauges.read(),
      deadband: this.deadband,
      busy: () => this.readingGauges || this.stopping,
      fullSamples: () => this.fullSamples,
      publish: (points) => this.publishFast(points),
      logger: this.logger,
    });
    const submit: EventPublisher['submit'] = (body, options) => this.publisher.submit(body, options);
    this.logSources = config.logs.map(
      (log) =>
        new LogSource(log, {
          host: this.host,
          stateDir: config.state_dir,
          submit,
          metrics: this.metrics,
          logger: this.logger,
        }),
    );
  }

  get metricsUrl(): string | null {
    return this.http?.url ?? null;
  }

  async start(): Promise<void> {
    this.http = await serveHttp(this.options.metricsListen ?? this.config.metrics_listen, this.registry, {
      logger: this.logger,
    });
    this.logger.info(
      { metrics: `${this.http.url}/metrics`, checks: this.config.checks.length, logs: this.config.logs.length },
      'agent started',
    );
    // Loops start before NATS is reachable: until then everything goes to the spool.
    this.scheduler.start();
    await Promise.all(this.logSources.map((source) => source.start()));
    if (this.config.resources.enabled) {
      // The fast tick starts after the first full sample: it needs its mount table and baselines.
      void this.sampleResources().then(() => {
        if (this.config.resources.fast.enabled && !this.stopping) this.fastTick.start();
      });
      this.every(this.config.resources.interval, () => void this.sampleResources());
      void this.refreshInventory();
      this.every(this.config.resources.inventory_interval, () => void this.refreshInventory());
    }
    this.every(this.config.heartbeat_interval, () => this.heartbeat());
    if (this.config.nats_silence > 0) {
      const watch = new NatsSilenceWatch(() => this.nc, this.config.nats_silence, this.registry, this.logger);
      this.every(watch.checkIntervalMs, () => watch.check(this.publisher.spoolDepth));
    }
    void this.connect();
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private async connect(): Promise<void> {
    try {
      const nc = await connectNats(this.config.nats, {
        name: `offhook-agent-${this.host}`,
        logger: this.logger,
        registry: this.registry,
      });
      if (this.stopping) {
        await nc.close();
        return;
      }
      this.nc = nc;
      this.publisher.attach(jetstreamClient(nc));
      this.heartbeat();
      void (async () => {
        for await (const status of nc.status()) {
          if (status.type === 'disconnect') this.publisher.setConnected(false);
          else if (status.type === 'reconnect') {
            this.publisher.setConnected(true);
            this.heartbeat();
          }
        }
      })();
    } catch (err) {
      this.logger.error({ err }, 'cannot connect to NATS; events stay in the spool');
    }
  }

  private heartbeat(): void {
    if (!this.nc || this.nc.isClosed()) return;
    const beat: Heartbeat = {
      v: SCHEMA_VERSION,
      id: newId(),
      host: this.host,
      ts: Date.now(),
      seq: this.sequence.current,
      epoch: this.sequence.epoch,
      kind: 'heartbeat',
      agentVersion: OFFHOOK_VERSION,
      uptimeSec: Math.round((Date.now() - this.startedAt) / 1000),
      intervalMs: this.config.heartbeat_interval,
      spoolDepth: this.publisher.spoolDepth,
    };
    // Core NATS: a heartbeat is only worth anything now; a stale one must not be replayed.
    this.nc.publish(this.subjects.heartbeat(this.host), encodeMessage(beat));
    this.metrics.heartbeats.inc();
  }

  private async sampleResources(): Promise<void> {
    if (this.sampling || this.stopping) return;
    this.sampling = true;
    const end = this.metrics.sampleDuration.startTimer();
    try {
      // The fast tick goes on during the process scan: what it publishes meanwhile, the gauges read next confirm.
      const processes = await this.sampler.processPoints();
      // From the gauges' read to the sample's submit (its seq), a fast tick's values would be older than the
      // sample's yet published after it: it stands aside, and one already reading drops its result (fullSamples).
      this.readingGauges = true;
      this.fullSamples++;
      const points = [...(await this.sampler.gauges()), ...processes, ...this.inventory];
      end();
      this.deadband.published(points);
      this.hostGauges.update(points);
      // A big host (hundreds of CPUs, mounts or interfaces) can pass the schema's 5000 points: send several samples.
      const batches: Promise<void>[] = [];
      for (let at = 0; at < points.length; at += MAX_POINTS_PER_SAMPLE) {
        batches.push(
          this.publisher.submit({
            kind: 'resource',
            intervalMs: this.config.resources.interval,
            metrics: points.slice(at, at + MAX_POINTS_PER_SAMPLE),
          }),
        );
      }
      // Submitted: the seqs are taken, any fast publish from here on comes after the sample. The ack is not waited.
      this.readingGauges = false;
      await Promise.all(batches);
    } catch (err) {
      this.logger.warn({ err }, 'resource sample failed');
    } finally {
      this.readingGauges = false;
      this.sampling = false;
    }
  }

  /**
   * A partial sample: only the groups that moved. The collector judges the points a sample carries and leaves every
   * other series as it was (a missing gauge is not read as gone), so nothing else needs to travel; /metrics keeps
   * mirroring the full samples.
   */
  private async publishFast(points: MetricPoint[]): Promise<void> {
    const families = new Set(points.map((p) => KEY_METRIC[p.name]).filter((f) => f !== undefined));
    for (const family of families) this.metrics.fastSamples.inc({ family });
    const metrics = points.slice(0, MAX_POINTS_PER_SAMPLE);
    await this.publisher.submit({ kind: 'resource', intervalMs: this.config.resources.interval, metrics });
  }

  private async refreshInventory(): Promise<void> {
    try {
      this.inventory = await readInventory();
    } catch (err) {
      this.logger.debug({ err }, 'inventory unavailable');
    }
  }

  private onCheckOutcome(
    check: ScheduledCheck,
    outcome: CheckOutcome,
    durationMs: number,
    failure: 'timeout' | 'error' | null,
  ): void {
    const { name, kind, labels } = check.config;
    this.metrics.checkDuration.observe({ check: name, kind }, durationMs / 1000);
    this.metrics.checkRuns.inc({ check: name, kind, status: outcome.status });
    this.metrics.checkStatus.set({ check: name, kind }, STATUS_CODE[outcome.status]);
    if (outcome.status !== 'ok')
      this.metrics.checkFailures.inc({ check: name, kind, reason: failure ?? outcome.status });
    void this.publisher.submit({
      kind: 'check',
      check: name,
      checkKind: kind,
      status: outcome.status,
      message: outcome.message.slice(0, 2000),
      latencyMs: outcome.latencyMs,
      ...(outcome.target ? { target: outcome.target.slice(0, 500) } : {}),
      ...(labels ? { labels } : {}),
      ...(outcome.metrics && outcome.metrics.length > 0 ? { metrics: outcome.metrics } : {}),
    });
  }

  /** Stops the loops, saves log positions, puts unsent events in the spool, closes NATS. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    this.fastTick.stop();
    this.fastGauges.close();
    this.sampler.close();
    this.scheduler.stop();
    await Promise.all(this.logSources.map((source) => source.stop()));
    await this.publisher.stop();
    this.heartbeat();
    if (this.nc) {
      await this.nc.drain().catch((err: unknown) => this.logger.debug({ err }, 'NATS drain at shutdown failed'));
    }
    await this.http?.close();
    this.unlockStateDir();
    this.logger.info({ seq: this.sequence.current, spoolDepth: this.publisher.spoolDepth }, 'agent stopped');
  }
}
