import { EventEmitter } from 'node:events';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  encodeMessage,
  GatewayHeartbeat,
  isCanary,
  NatsProbe,
  newId,
  OFFHOOK_VERSION,
  SCHEMA_VERSION,
  type Alert,
  type Clock,
  type ClockTimer,
  type InboundValidator,
  type Logger,
  type Registry,
  type Subjects,
} from '../../shared/index.ts';
import type { GatewayConfig } from '../config.ts';
import { initialEscalation } from '../calls/escalation.ts';
import type { AlertIntake } from '../intake/intake.ts';
import type { CallQueue } from '../calls/queue.ts';
import { blindAlert, blindFingerprint } from './blind-alert.ts';
import { CollectorCoverage } from './coverage.ts';
import { localStatePath } from './local-file.ts';
import { LocalFirstStateStore } from './local-state.ts';
import { watchdogMetrics, type WatchdogMetrics } from './metrics.ts';
import { OfflineAwarePublisher } from './offline-publisher.ts';
import { blindSummary, type BlindReason } from './wording.ts';

const STATE_VALUE = { calling: 1, acknowledged: 2, ended: 3 } as const;

interface Incident {
  generation: number;
  since: number;
  /** calling: in the queue; acknowledged: someone pressed 1 (or acked it elsewhere); ended: the escalation ran out. */
  state: keyof typeof STATE_VALUE;
  alert: Alert;
}

export interface WatchdogParts {
  queue: CallQueue;
  intake: AlertIntake;
  worker: { wake(): void };
  validator: InboundValidator;
  lineUp: () => Promise<boolean>;
}

/**
 * The gateway's watchdog: it notices when offhook is blind — this gateway cannot reach NATS, no live collector
 * covers every partition, or the collector's canary alert stopped coming through ALERTS — and then phones the
 * on-call chain on its own line about it. The incident is an ordinary queued alert (ruleKind `watchdog`, made here,
 * never published to ALERTS), so it goes through the same budget, escalation and DTMF acknowledgement; an
 * acknowledgement stops the calls until the incident clears. Everything it needs is local (people and numbers in
 * the config, the budget in memory and in a local file), so it works with NATS completely down.
 */
export class GatewayWatchdog {
  readonly probe: NatsProbe;
  readonly metrics: WatchdogMetrics;
  /** `checked` (reasons) after every check, `raised` / `cleared` (generation) per incident: tests wait on them. */
  readonly events = new EventEmitter();
  private readonly coverage: CollectorCoverage;
  private readonly config: GatewayConfig['watchdog'];
  private readonly logger: Logger;
  private readonly startedAt: number;
  private readonly fingerprint: string;
  private lastCanaryAt: number;
  private incident: Incident | null = null;
  private lastReasons: BlindReason[] = [];
  private parts: WatchdogParts | null = null;
  private store: LocalFirstStateStore | null = null;
  private sub: Subscription | null = null;
  private checkTimer: ClockTimer | undefined;
  private heartbeatTimer: ClockTimer | undefined;
  private checking: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      subjects: Subjects;
      gatewayConfig: GatewayConfig;
      gatewayHost: string;
      logger: Logger;
      clock: Clock;
      registry: Registry;
    },
  ) {
    this.config = deps.gatewayConfig.watchdog;
    this.logger = deps.logger.child({ component: 'watchdog' });
    this.startedAt = deps.clock.now();
    this.lastCanaryAt = this.startedAt;
    this.coverage = new CollectorCoverage(this.startedAt);
    this.probe = new NatsProbe(
      () => deps.nc,
      () => deps.clock.now(),
    );
    this.metrics = watchdogMetrics(deps.registry);
    this.fingerprint = blindFingerprint(deps.gatewayHost);
  }

  /** The gateway's state store, with the local copy the budget needs while NATS is down. */
  async stateStore(kv: KV): Promise<LocalFirstStateStore> {
    let bucketId = 'unknown';
    try {
      bucketId = (await kv.status()).streamInfo.created;
    } catch (err) {
      this.logger.warn({ err }, 'cannot read the gateway KV bucket status; the local state copy is not tied to it');
    }
    const file = localStatePath(this.deps.gatewayConfig.state_dir, this.deps.subjects.prefix);
    this.store = new LocalFirstStateStore(kv, file, bucketId, () => this.probe.online, this.deps.logger);
    return this.store;
  }

  publisher(js: JetStreamClient): OfflineAwarePublisher {
    const { subjects, gatewayHost, logger, clock } = this.deps;
    return new OfflineAwarePublisher(
      js,
      subjects,
      gatewayHost,
      logger,
      () => clock.now(),
      () => this.probe.online,
    );
  }

  /** The collector's canary: counted, acknowledged at once, never queued, never read to a caller. */
  takeCanary(alert: Alert): boolean {
    if (!isCanary(alert)) return false;
    this.lastCanaryAt = this.deps.clock.now();
    this.metrics.canaries.inc();
    return true;
  }

  attach(parts: WatchdogParts): void {
    this.parts = parts;
    parts.intake.events.on('finished', (fp: string, reason: string) => this.onFinished(fp, reason));
    this.sub = this.deps.nc.subscribe(this.deps.subjects.allCollectorHeartbeats, {
      callback: (err, msg) => {
        if (err) return;
        const decoded = parts.validator.accept(msg.subject, msg.data);
        if (decoded?.type !== 'collector_heartbeat') return;
        this.metrics.collectorHeartbeats.inc();
        this.coverage.onHeartbeat(decoded.message, this.deps.clock.now());
      },
    });
  }

  start(): void {
    // The heartbeat goes out even with the watchdog off: the collector's gateway_silent depends on it.
    this.heartbeat();
    if (!this.config.enabled) return;
    this.scheduleCheck();
    const { collector_silence, nats_silence, canary_silence } = this.config;
    const silences = { collectorSilence: collector_silence, natsSilence: nats_silence, canarySilence: canary_silence };
    this.logger.info(silences, 'watchdog started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.checkTimer) this.deps.clock.clearTimeout(this.checkTimer);
    if (this.heartbeatTimer) this.deps.clock.clearTimeout(this.heartbeatTimer);
    this.sub?.unsubscribe();
    await this.checking;
  }

  private scheduleCheck(): void {
    if (this.stopped) return;
    this.checkTimer = this.deps.clock.setTimeout(() => {
      this.checking = this.checking
        .then(() => this.check())
        .catch((err: Error) => this.logger.error({ err }, 'watchdog check failed'));
      void this.checking.then(() => this.scheduleCheck());
    }, this.config.check_interval);
  }

  /**
   * What makes offhook blind right now. With NATS unreachable nothing else can be judged: that is the reason once
   * it lasts nats_silence, and before that the answer is null ("cannot tell"), which leaves an incident as it is.
   */
  reasons(now: number): BlindReason[] | null {
    const { nats_silence, collector_silence, canary_silence } = this.config;
    if (!this.probe.online) {
      const silent = nats_silence > 0 && now - this.probe.lastOk > nats_silence;
      return silent ? [{ kind: 'nats', since: this.probe.lastOk }] : null;
    }
    const reasons: BlindReason[] = [];
    const uncovered = collector_silence > 0 ? this.coverage.uncovered(now, collector_silence) : null;
    if (uncovered) reasons.push({ kind: 'collector', ...uncovered });
    if (canary_silence > 0 && now - this.lastCanaryAt > canary_silence) {
      reasons.push({ kind: 'canary', since: this.lastCanaryAt });
    }
    return reasons;
  }

  private async check(): Promise<void> {
    if (this.stopped || !this.parts) return;
    this.probe.probe();
    const now = this.deps.clock.now();
    const reasons = this.reasons(now);
    this.updateGauges(now, reasons ?? []);
    if (reasons !== null) this.lastReasons = reasons;
    if (reasons !== null && reasons.length === 0 && this.incident) await this.clear(now);
    else if (reasons !== null && reasons.length > 0 && !this.incident) this.raise(reasons, now);
    else if (reasons !== null && reasons.length > 0) this.refresh(reasons, now);
    this.events.emit('checked', reasons);
  }

  /** For `offhook status`: what the last check found and the incident's state. */
  status(): { enabled: boolean; blind: Array<BlindReason['kind']>; incident: Incident['state'] | null } {
    return { enabled: this.config.enabled, blind: this.lastReasons.map((r) => r.kind), incident: this.incidentState() };
  }

  /** The current incident's state, or null when offhook sees. */
  incidentState(): Incident['state'] | null {
    return this.incident?.state ?? null;
  }

  get incidentFingerprint(): string {
    return this.fingerprint;
  }

  private updateGauges(now: number, reasons: BlindReason[]): void {
    const m = this.metrics;
    for (const kind of ['nats', 'collector', 'canary'] as const) {
      m.blind.set({ reason: kind }, reasons.some((r) => r.kind === kind) ? 1 : 0);
    }
    m.natsSilent.set(this.probe.silentForMs() / 1000);
    m.collectorSilent.set(this.coverage.oldestClaimAge(now) / 1000);
    m.collectorsLive.set(this.coverage.liveMembers(now, this.config.collector_silence || 60_000));
    m.canaryAge.set((now - this.lastCanaryAt) / 1000);
    m.incidentState.set(this.incident ? STATE_VALUE[this.incident.state] : 0);
  }

  private raise(reasons: BlindReason[], now: number): void {
    const parts = this.parts!;
    const generation = this.store?.nextWatchdogGeneration() ?? 1;
    const since = Math.min(...reasons.map((r) => r.since));
    const alert = blindAlert(this.deps.gatewayHost, generation, since, blindSummary(reasons, now), now);
    this.incident = { generation, since, state: 'calling', alert };
    parts.queue.upsert(alert, now, initialEscalation(now, this.deps.gatewayConfig.escalation));
    parts.intake.firing.set(alert.fingerprint, alert);
    this.metrics.incidents.inc();
    this.metrics.incidentState.set(STATE_VALUE.calling);
    const kinds = reasons.map((r) => r.kind);
    const why = { fingerprint: alert.fingerprint, generation, reasons: kinds, summary: alert.summary };
    this.logger.error(why, 'offhook is blind: calling the on-call chain');
    parts.intake.events.emit('queued', alert.fingerprint);
    this.events.emit('raised', generation);
    parts.worker.wake();
  }

  /** Keeps the spoken reason current ("for 3 minutes") while the incident waits for the line. */
  private refresh(reasons: BlindReason[], now: number): void {
    const incident = this.incident!;
    const parts = this.parts!;
    const summary = blindSummary(reasons, now).slice(0, 500);
    if (summary === incident.alert.summary) return;
    incident.alert = { ...incident.alert, ts: now, summary };
    if (incident.state !== 'calling' || !parts.queue.get(this.fingerprint)) return;
    const entry = parts.queue.get(this.fingerprint)!;
    parts.queue.upsert(incident.alert, entry.receivedAt, entry.escalation);
    parts.intake.firing.set(this.fingerprint, incident.alert);
  }

  private async clear(now: number): Promise<void> {
    const incident = this.incident!;
    const parts = this.parts!;
    this.incident = null;
    this.metrics.incidentState.set(0);
    const { generation, since, state } = incident;
    const how = { fingerprint: this.fingerprint, generation, lastedMs: now - since, state };
    this.logger.info(how, 'offhook sees again: watchdog incident cleared');
    const entry = parts.queue.get(this.fingerprint);
    if (entry) await parts.intake.finish(entry, 'resolved');
    parts.intake.firing.delete(this.fingerprint);
    this.events.emit('cleared', incident.generation);
  }

  private onFinished(fp: string, reason: string): void {
    if (fp !== this.fingerprint || !this.incident || this.incident.state !== 'calling') return;
    this.incident.state = reason === 'acknowledged' ? 'acknowledged' : 'ended';
    this.metrics.incidentState.set(STATE_VALUE[this.incident.state]);
    this.parts?.intake.firing.delete(this.fingerprint);
    const log = { fingerprint: fp, generation: this.incident.generation, reason };
    if (this.incident.state === 'acknowledged') {
      this.logger.warn(log, 'watchdog incident acknowledged: no more calls about it until it clears');
    } else {
      this.logger.error(log, 'watchdog escalation ended unacknowledged: no more calls about it until it clears');
    }
  }

  private heartbeat(): void {
    if (this.stopped) return;
    const { nc, subjects, gatewayHost, clock, logger } = this.deps;
    const interval = this.config.heartbeat_interval;
    void (this.parts?.lineUp() ?? Promise.resolve(true))
      .then((lineUp) => {
        const now = clock.now();
        const beat = GatewayHeartbeat.parse({
          v: SCHEMA_VERSION,
          id: newId(),
          host: gatewayHost,
          ts: now,
          kind: 'gateway_heartbeat',
          gatewayVersion: OFFHOOK_VERSION,
          uptimeSec: (now - this.startedAt) / 1000,
          intervalMs: interval,
          lineUp,
          blind: (this.reasons(now) ?? []).map((r) => r.kind),
        });
        // Core NATS: buffered by the client while disconnected, never waited on.
        nc.publish(subjects.gatewayHeartbeat(gatewayHost), encodeMessage(beat));
        this.metrics.heartbeatsSent.inc();
      })
      .catch((err: Error) => logger.warn({ err }, 'cannot publish the gateway heartbeat'));
    this.heartbeatTimer = clock.setTimeout(() => this.heartbeat(), interval);
  }
}
