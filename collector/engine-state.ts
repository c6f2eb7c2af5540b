import type { Labels, Severity } from '../shared/index.ts';
import type { EngineRule } from './engine-rules.ts';

export interface HostInfo {
  /** Last agent `seq` and its `ts`: duplicates and replays are skipped by them. */
  seq: number;
  ts: number;
  lastEventAt: number;
  lastHeartbeatAt: number;
  agentVersion: string;
  intervalMs: number;
}

/** Per-series engine state: the `for` timer and the flap history. */
export interface SeriesState {
  pending: { rule: string; host: string; labels: Labels; severity: Severity; value: number | null; summary: string; since: number } | null;
  history: number[];
  flapping: boolean;
  /** Rule + series key, so a restored series is found again without hashing every healthy one. */
  key?: string;
}

/** Everything the engine must remember across a restart besides the alert records (checkpointed together with the stream sequence). */
export interface EngineCheckpoint {
  streamSeq: number;
  ackSeq: number;
  hosts: Record<string, HostInfo>;
  series: Record<string, SeriesState>;
  rules: Record<string, { kind: string; coveredSeq: number; state: unknown }>;
}

export class EngineState {
  streamSeq = 0;
  ackSeq = 0;
  readonly hosts = new Map<string, HostInfo>();
  readonly series = new Map<string, SeriesState>();

  /**
   * Agent sequence numbers only grow; an older or equal `seq` with no newer timestamp is a
   * duplicate. A smaller `seq` with a newer timestamp means the agent restarted its numbering.
   */
  acceptAgentSeq(host: string, seq: number, ts: number): boolean {
    const info = this.hosts.get(host);
    if (info && seq <= info.seq && ts <= info.ts) return false;
    this.touchHost(host, { seq, ts });
    return true;
  }

  touchHost(host: string, fields: Partial<HostInfo>): void {
    const info = this.hosts.get(host) ?? { seq: -1, ts: 0, lastEventAt: 0, lastHeartbeatAt: 0, agentVersion: '', intervalMs: 0 };
    Object.assign(info, fields);
    this.hosts.set(host, info);
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
    if (series && !series.pending && !series.flapping && series.history.every((level) => level === 0)) this.series.delete(fp);
  }

  snapshot(rules: EngineRule[]): EngineCheckpoint {
    return {
      streamSeq: this.streamSeq,
      ackSeq: this.ackSeq,
      hosts: Object.fromEntries(this.hosts),
      series: Object.fromEntries(this.series),
      rules: Object.fromEntries(rules.map((r) => [r.instance.name, { kind: r.instance.kind, coveredSeq: r.coveredSeq, state: r.instance.snapshot() }])),
    };
  }

  restore(checkpoint: unknown, rules: EngineRule[]): void {
    if (!checkpoint || typeof checkpoint !== 'object') return;
    const saved = checkpoint as Partial<EngineCheckpoint>;
    this.streamSeq = Number(saved.streamSeq) || 0;
    this.ackSeq = Number(saved.ackSeq) || 0;
    for (const [host, info] of Object.entries(saved.hosts ?? {})) this.hosts.set(host, info);
    for (const [fp, series] of Object.entries(saved.series ?? {})) if (Array.isArray(series?.history)) this.series.set(fp, series);
    for (const rule of rules) {
      const state = saved.rules?.[rule.instance.name];
      // A rule whose kind changed starts fresh rather than misreading old state.
      if (!state || state.kind !== rule.instance.kind) continue;
      rule.instance.restore(state.state);
      rule.coveredSeq = Number(state.coveredSeq) || 0;
    }
  }
}
