import type { Ack, Alert, Clock, Heartbeat, Logger } from '../../shared/index.ts';
import { cloneRecord, type AlertRecord } from './alert-record.ts';
import { queueRepeat, reconcile, repeatDue } from './announce.ts';
import { AlertLifecycle, type Moment } from './lifecycle.ts';
import { ackCovers, acknowledger, createMute, flapDetector, inhibitor, silencer, type MuteFn } from '../mute/index.ts';
import type { InhibitOptions } from './inhibition.ts';
import type { AgentEvent } from '../rules/index.ts';
import type { EngineRule } from './engine-rules.ts';
import { silenceActive, silenceMatches, silenceTarget, type Silence } from '../silences/index.ts';
import { EngineState, type HostInfo } from './engine-state.ts';
import { EngineVerdicts } from './engine-verdicts.ts';
import { ReplayWindow, type QuietStatus } from './replay-window.ts';
import { StreamHead, type IntakeLimits, type RejectReason } from '../intake/index.ts';

/** Where transitions go: persisted first (KV), then the record's outbox is published and notified. */
export interface EngineOutput {
  commit(record: AlertRecord): void;
}

export interface EngineObserver {
  eventProcessed?(kind: string, seconds: number): void;
  duplicateEvent?(): void;
  /** An event the intake gate refused (intake/gate.ts): counted and logged by the caller. */
  rejectedEvent?(reason: RejectReason, event: AgentEvent): void;
  ruleFailed?(rule: string): void;
  /** A transition stored but not told: it came from a replay of history (replay-window.ts). */
  quietTransition?(status: QuietStatus): void;
}

export interface EngineOptions {
  rules: EngineRule[];
  clock: Clock;
  output: EngineOutput;
  logger: Logger;
  observer?: EngineObserver;
  /** Bounds on what an event may claim (collector.yaml `intake:`); defaults when absent. */
  intake?: IntakeLimits;
  inhibit?: InhibitOptions; // collector.yaml `inhibit_rules:`, beside host-down inhibition (alerts/inhibition.ts)
  announceWithinMs?: number; // collector.yaml `replay.announce_within` (replay-window.ts)
  head?: StreamHead; // where EVENTS ends, as the feed knows it (intake/stream-head.ts); none: each event is it
}

/**
 * The alert engine: events, heartbeats, acks, silences and the clock in; alert transitions out.
 * No I/O: the NATS wiring feeds it and persists what it commits, so every rule and lifecycle
 * path is testable with a ManualClock and an in-memory output.
 */
export class AlertEngine {
  readonly state: EngineState;
  readonly records = new Map<string, AlertRecord>();
  private silences: Silence[] = [];
  private activeSilences = '';
  private readonly rulesByName: Map<string, EngineRule>;
  /**
   * Whether people are told about an alert now (mute/mute.ts): silences, host-down inhibition, flapping of its
   * series and its acknowledgement. Every announcement of the engine, and of the collector's external alerts, asks it.
   */
  readonly mute: MuteFn;
  private readonly lifecycle: AlertLifecycle;
  /** What rules' verdicts make of their series: `for` timers, flapping, fire / update / resolve. */
  private readonly verdicts: EngineVerdicts;
  private readonly head: StreamHead;

  constructor(private readonly options: EngineOptions) {
    this.state = new EngineState(options.intake);
    this.head = options.head ?? new StreamHead(options.clock);
    this.mute = createMute([
      inhibitor,
      silencer((alert, now) => this.silencedBy(alert, now)),
      flapDetector((fp) => this.state.series.get(fp)?.flapping ?? false),
      acknowledger,
    ]);
    this.rulesByName = new Map(options.rules.map((r) => [r.instance.name, r]));
    this.lifecycle = new AlertLifecycle({
      records: this.records,
      mute: this.mute,
      commit: (record) => this.commit(record),
      logger: options.logger,
      inhibit: options.inhibit,
      window: new ReplayWindow(options.announceWithinMs, (s) => options.observer?.quietTransition?.(s), this.head),
    });
    this.verdicts = new EngineVerdicts({
      state: this.state,
      records: this.records,
      rulesByName: this.rulesByName,
      lifecycle: this.lifecycle,
      logger: options.logger,
    });
  }

  get rules(): EngineRule[] {
    return this.options.rules;
  }

  /** Restores KV alert records and the checkpoint, then settles anything a config change orphaned. */
  load(records: AlertRecord[], checkpoint: unknown): void {
    for (const record of records) this.records.set(record.alert.fingerprint, record);
    this.state.restore(checkpoint, this.options.rules, this.options.clock);
    this.verdicts.restored(records);
    const now = this.options.clock.now();
    for (const rule of this.options.rules) rule.instance.resume?.(now);
    for (const record of this.records.values()) {
      const base = record.alert.rule;
      // `external` alerts are not the rules' (gateway-alerts.ts raises and resolves them).
      if (record.alert.status === 'firing' && record.alert.ruleKind !== 'external' && !this.rulesByName.has(base)) {
        const fields = { fingerprint: record.alert.fingerprint, rule: base };
        this.options.logger.warn(fields, 'rule no longer configured: resolving its alert');
        const summary = `${record.alert.host}: rule ${base} was removed from the configuration`;
        this.lifecycle.resolve(record, { summary, value: null }, { at: now, head: now, now }, this.state.streamSeq);
      }
    }
  }

  /**
   * The EVENTS stream was recreated (its sequence is behind our checkpoint): forget stream
   * positions so new events are not mistaken for replays. Alert state is kept.
   */
  rebaseEventSequence(): void {
    this.state.streamSeq = 0;
    for (const rule of this.options.rules) rule.coveredSeq = 0;
    for (const record of this.records.values()) record.seq = 0;
  }

  /**
   * One event from the EVENTS stream; `streamSeq` is its stream sequence and `arrivedAt` when
   * JetStream stored it: the intake gate's reference time and the event time its transitions carry
   * (event-time.ts). Returns false for a duplicate or a refusal.
   */
  handleEvent(event: AgentEvent, streamSeq: number, arrivedAt = this.options.clock.now()): boolean {
    const started = performance.now();
    if (streamSeq <= this.state.streamSeq) {
      this.options.observer?.duplicateEvent?.();
      return false;
    }
    const now = this.options.clock.now();
    const at = this.state.time.advance(arrivedAt, this.options.clock);
    const moment: Moment = { at, now }; // no head: the stream's, which the feed has told of this event already
    const verdict = this.state.intake.admit(event, streamSeq, arrivedAt);
    if (verdict !== 'accept') {
      if (verdict === 'duplicate') this.options.observer?.duplicateEvent?.();
      else this.options.observer?.rejectedEvent?.(verdict, event);
      // Passed over for good: the checkpoint may move beyond it.
      this.state.streamSeq = streamSeq;
      return false;
    }
    this.state.eventFrom(event.host, moment.at, event.seq, event.ts);
    for (const rule of this.options.rules) {
      if (!rule.instance.onEvent || !rule.hosts.matches(event.host) || streamSeq <= rule.coveredSeq) continue;
      // One rule tripping over an odd event must not stop the others (or the stream).
      try {
        const m = rule.instance.timeBase === 'clock' ? { at: now, head: now, now } : moment;
        for (const verdict of rule.instance.onEvent(event, m.at)) this.verdicts.apply(rule, verdict, m, streamSeq);
      } catch (err) {
        this.options.logger.error(
          { err, host: event.host, rule: rule.instance.name, streamSeq },
          'rule failed on an event; skipped',
        );
        this.options.observer?.ruleFailed?.(rule.instance.name);
      }
      rule.coveredSeq = streamSeq;
    }
    this.state.streamSeq = streamSeq;
    this.options.observer?.eventProcessed?.(event.kind, (performance.now() - started) / 1000);
    return true;
  }

  handleHeartbeat(heartbeat: Heartbeat): void {
    const now = this.options.clock.now();
    this.state.touchHost(heartbeat.host, {
      lastHeartbeatAt: now,
      agentVersion: heartbeat.agentVersion,
      intervalMs: heartbeat.intervalMs,
    });
    for (const rule of this.options.rules) {
      if (!rule.instance.onHeartbeat || !rule.hosts.matches(heartbeat.host)) continue;
      const moment = this.momentFor(rule, now);
      for (const verdict of rule.instance.onHeartbeat(heartbeat, moment.at))
        this.verdicts.apply(rule, verdict, moment, null);
    }
  }

  /**
   * An acknowledgement covers the generation it names (or the current one); it stops re-notification, nothing is
   * published.
   */
  handleAck(ack: Ack): 'applied' | 'unknown' | 'stale' {
    const record = this.records.get(ack.fingerprint);
    if (record?.alert.status !== 'firing') return 'unknown';
    if (ack.generation !== undefined && ack.generation !== record.alert.generation) return 'stale';
    const { ack: held, alert } = record;
    if (held?.generation === alert.generation && held.until === ack.until && held.by === ack.by) return 'applied';
    record.ack = {
      generation: record.alert.generation,
      by: ack.by,
      until: ack.until,
      at: ack.ts,
      ...(ack.comment ? { comment: ack.comment } : {}),
    };
    record.alert.acknowledged = true;
    this.commit(record);
    return 'applied';
  }

  setSilences(silences: Silence[]): void {
    this.silences = silences;
    this.activeSilences = '';
    this.tickSilences(this.options.clock.now());
  }

  activeSilenceList(): Silence[] {
    const now = this.options.clock.now();
    return this.silences.filter((s) => s.endsAt > now);
  }

  /** Time passes: windows slide, heartbeats go missing, `for` elapses, repeats fall due, silences and acks expire. */
  tick(): void {
    const now = this.options.clock.now();
    for (const rule of this.options.rules) {
      if (!rule.instance.onTick) continue;
      const moment = this.momentFor(rule, now);
      for (const verdict of rule.instance.onTick(moment.at)) this.verdicts.apply(rule, verdict, moment, null);
    }
    this.verdicts.elapse((rule) => this.momentFor(rule, now));
    for (const record of this.records.values()) {
      if (record.alert.status !== 'firing') continue;
      const rule = this.rulesByName.get(record.alert.rule);
      if (record.quiet && rule) this.lifecycle.catchUpAtTick(record, rule.instance, this.momentFor(rule, now));
      if (record.ack && record.ack.until > 0 && now >= record.ack.until) {
        record.ack = null;
        record.alert.acknowledged = false;
        this.commit(record);
      }
      if (rule && repeatDue(record, this.mute, rule.repeatMs, now)) {
        queueRepeat(record, now);
        this.commit(record);
      }
    }
    this.tickSilences(now);
  }

  /** Is this alert silenced right now, and by which silence. */
  silencedBy(alert: Alert, now = this.options.clock.now()): Silence | undefined {
    const target = silenceTarget(alert);
    return this.silences.find((s) => silenceMatches(s, target, now));
  }

  hostDown(host: string): boolean {
    return this.lifecycle.hostDown(host);
  }

  hosts(): Map<string, HostInfo> {
    return this.state.hosts;
  }

  /** A rule's time (event time; our clock for a rule judged on live input) beside our clock, and the head then. */
  private momentFor(rule: EngineRule, now: number): Moment {
    if (rule.instance.timeBase === 'clock') return { at: now, head: now, now };
    const at = this.state.time.at(this.options.clock);
    return { at, head: this.head.at(at, this.state.streamSeq), now };
  }

  private tickSilences(now: number): void {
    const active = this.silences
      .filter((s) => silenceActive(s, now))
      .map((s) => s.id)
      .sort()
      .join(',');
    if (active === this.activeSilences) return;
    this.activeSilences = active;
    for (const record of this.records.values()) if (reconcile(record, this.mute, now)) this.commit(record);
  }

  private commit(record: AlertRecord): void {
    record.updatedAt = this.options.clock.now();
    this.options.output.commit(cloneRecord(record));
    record.outbox = [];
  }

  /** Exposed for status pages and the CLI. */
  isAcknowledged(record: AlertRecord): boolean {
    return ackCovers(record.ack, record.alert.generation, this.options.clock.now());
  }
}
