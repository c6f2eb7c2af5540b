import type { Clock, Labels, Severity } from '../../shared/index.ts';
import type { EngineRule } from './engine-rules.ts';
import { ruleOfKey } from './active-series.ts';
import { DEFAULT_INTAKE_LIMITS, IntakeGate, type IntakeLimits } from '../intake/index.ts';
import type { EpochPosition } from '../intake/index.ts';
import { EventTime } from './event-time.ts';

export interface HostInfo {
  /** Last accepted agent `seq` and its `ts` (shown only; intake/positions.ts decides on duplicates). */
  seq: number;
  ts: number;
  /** Event time (event-time.ts) of its last event: shown only, host liveness is heartbeats'. */
  lastEventAt: number;
  lastHeartbeatAt: number;
  agentVersion: string;
  intervalMs: number;
}

/** Per-series engine state: the `for` timer and the flap history. */
export interface SeriesState {
  pending: {
    rule: string;
    host: string;
    labels: Labels;
    severity: Severity;
    value: number | null;
    summary: string;
    since: number;
  } | null;
  history: number[];
  flapping: boolean;
  /** Rule + series key, so a restored series is found again without hashing every healthy one. */
  key?: string;
}

/**
 * Everything the engine must remember across a restart besides the alert records (checkpointed together with the stream
 * sequence).
 */
export interface EngineCheckpoint {
  streamSeq: number;
  ackSeq: number;
  /** Event time of the last event covered (event-time.ts); absent in older checkpoints. */
  eventTime?: number;
  hosts: Record<string, HostInfo>;
  /** Per host, the agent sequence positions of its recent epochs (intake/positions.ts); absent before epochs. */
  positions?: Record<string, EpochPosition[]>;
  /** Series of no configured rule (older checkpoints: every series). */
  series: Record<string, SeriesState>;
  /** Per rule: what its events have covered, its own state and its series (`series` absent in older checkpoints). */
  rules: Record<string, { kind: string; coveredSeq: number; state: unknown; series?: Record<string, SeriesState> }>;
}

export class EngineState {
  streamSeq = 0;
  ackSeq = 0;
  readonly hosts = new Map<string, HostInfo>();
  readonly series = new Map<string, SeriesState>();
  /** When the events being evaluated happened: their transitions' times and the `for` timers' (event-time.ts). */
  readonly time = new EventTime();
  /** What an event may claim (timestamp, sequence step); its positions are checkpointed with the rest. */
  readonly intake: IntakeGate;

  constructor(limits: IntakeLimits = DEFAULT_INTAKE_LIMITS) {
    this.intake = new IntakeGate(limits);
  }

  touchHost(host: string, fields: Partial<HostInfo>): void {
    const info = this.hosts.get(host) ?? {
      seq: -1,
      ts: 0,
      lastEventAt: 0,
      lastHeartbeatAt: 0,
      agentVersion: '',
      intervalMs: 0,
    };
    Object.assign(info, fields);
    this.hosts.set(host, info);
  }

  /** touchHost() for an event, without an object per event. */
  eventFrom(host: string, at: number, seq: number, ts: number): void {
    const info = this.hosts.get(host);
    if (info === undefined) return this.touchHost(host, { lastEventAt: at, seq, ts });
    info.lastEventAt = at;
    info.seq = seq;
    info.ts = ts;
  }

  seriesFor(fp: string): SeriesState {
    let series = this.series.get(fp);
    if (!series) {
      series = { pending: null, history: [], flapping: false };
      this.series.set(fp, series);
    }
    return series;
  }

  /** Quiet series cost nothing: a fleet of healthy hosts keeps no per-series state. */
  dropIfIdle(fp: string): void {
    const series = this.series.get(fp);
    if (series && !series.pending && !series.flapping && series.history.every((level) => level === 0))
      this.series.delete(fp);
  }

  /**
   * Each rule's series (`for` timers, flap history) travel in that rule's shard, beside the `coveredSeq` that makes a
   * replay skip what the rule has seen: the shards are written one by one, so a kill between two writes must leave
   * every rule's series as of its own `coveredSeq`. In the engine's key they were a checkpoint older than a rule key
   * written just before the kill: the replay skipped the event that started (or stopped) a `for` timer, and the timer
   * was lost (or came back and fired).
   */
  snapshot(rules: EngineRule[]): EngineCheckpoint {
    const byRule = new Map<string, Record<string, SeriesState>>(rules.map((r) => [r.instance.name, {}]));
    const unowned: Record<string, SeriesState> = {};
    for (const [fp, series] of this.series) {
      const own = byRule.get(ruleOf(series) ?? '');
      (own ?? unowned)[fp] = series;
    }
    return {
      streamSeq: this.streamSeq,
      ackSeq: this.ackSeq,
      eventTime: this.time.snapshot(),
      hosts: Object.fromEntries(this.hosts),
      positions: this.intake.snapshot(),
      series: unowned,
      rules: Object.fromEntries(
        rules.map((r) => [
          r.instance.name,
          {
            kind: r.instance.kind,
            coveredSeq: r.coveredSeq,
            state: r.instance.snapshot(),
            series: byRule.get(r.instance.name)!,
          },
        ]),
      ),
    };
  }

  /** `clock`: event time is carried forward from the restore by it until the first replayed event. */
  restore(checkpoint: unknown, rules: EngineRule[], clock: Clock): void {
    if (!checkpoint || typeof checkpoint !== 'object') return;
    const saved = checkpoint as Partial<EngineCheckpoint>;
    this.streamSeq = Number(saved.streamSeq) || 0;
    this.ackSeq = Number(saved.ackSeq) || 0;
    this.time.restore(saved.eventTime, clock);
    for (const [host, info] of Object.entries(saved.hosts ?? {})) this.hosts.set(host, info);
    // A checkpoint from before epochs kept one seq per host: it becomes that host's legacy position.
    this.intake.restore(saved.positions, saved.positions ? undefined : saved.hosts);
    // A checkpoint from before the series moved into the rule shards keeps them all in the engine's key.
    this.restoreSeries(saved.series);
    for (const rule of rules) {
      const state = saved.rules?.[rule.instance.name];
      // A rule whose kind changed starts fresh rather than misreading old state.
      if (!state || state.kind !== rule.instance.kind) continue;
      rule.instance.restore(state.state);
      rule.coveredSeq = Number(state.coveredSeq) || 0;
      if (!state.series || typeof state.series !== 'object') continue;
      // The shard's series are as of its coveredSeq: they replace whatever the engine's key says of this rule.
      for (const [fp, series] of this.series) if (ruleOf(series) === rule.instance.name) this.series.delete(fp);
      this.restoreSeries(state.series);
    }
  }

  private restoreSeries(saved: Record<string, SeriesState> | undefined): void {
    for (const [fp, series] of Object.entries(saved ?? {}))
      if (Array.isArray(series?.history)) this.series.set(fp, series);
  }
}

/** The rule a series belongs to: its key is "<rule>\0<series>" (a pending timer names the rule too). */
function ruleOf(series: SeriesState): string | null {
  // ruleOfKey gives back the whole key when it holds no rule part, and '' when the rule part is empty.
  const rule = series.key ? ruleOfKey(series.key) : '';
  if (rule && rule !== series.key) return rule;
  return series.pending?.rule ?? null;
}
