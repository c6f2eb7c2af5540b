import { fingerprint, type Logger, type Severity } from '../../shared/index.ts';
import { firingRecord, type AlertRecord } from './alert-record.ts';
import { severityLevel } from './announce.ts';
import type { AlertLifecycle, Moment } from './lifecycle.ts';
import { updateFlapping } from './flapping.ts';
import type { Verdict } from '../rules/index.ts';
import { seriesKey } from '../rules/series-key.ts';
import type { EngineRule } from './engine-rules.ts';
import type { EngineState, SeriesState } from './engine-state.ts';
import { ActiveSeries } from './active-series.ts';

/**
 * What a rule's verdicts make of a series: its `for` timer, its flap history, and the alert transitions they lead to
 * (fire; update and resolve through the lifecycle). The engine decides which rule is asked and at what moment (events,
 * heartbeats, ticks); this, what the answer changes. Series without an alert or state are passed over cheaply.
 */
export class EngineVerdicts {
  /** Series that have an alert or engine state, by rule + series key → fingerprint. */
  private readonly active = new ActiveSeries();

  constructor(
    private readonly deps: {
      state: EngineState;
      records: Map<string, AlertRecord>;
      rulesByName: Map<string, EngineRule>;
      lifecycle: AlertLifecycle;
      logger: Logger;
    },
  ) {}

  /** After a restore (the records loaded, then the checkpoint): their series are found again by key. */
  restored(records: AlertRecord[]): void {
    for (const { alert } of records)
      this.active.set(ActiveSeries.key(alert.rule, seriesKey(alert.host, alert.labels)), alert.fingerprint);
    for (const [fp, series] of this.deps.state.series) if (series.key) this.active.set(series.key, fp);
  }

  /** A tick: series whose `for` has elapsed by their rule's time fire. */
  elapse(momentFor: (rule: EngineRule) => Moment): void {
    const { state, rulesByName } = this.deps;
    for (const [fp, series] of state.series) {
      const rule = rulesByName.get(series.pending?.rule ?? '');
      if (!series.pending || !rule) continue;
      const moment = momentFor(rule);
      if (moment.at - series.pending.since >= rule.instance.forMs) this.fire(rule, fp, series, moment, state.streamSeq);
    }
  }

  /** One verdict of a rule; `streamSeq` is the event's that gave it, null for a heartbeat's or a tick's. */
  apply(rule: EngineRule, verdict: Verdict, moment: Moment, streamSeq: number | null): void {
    // Fast path for the common case: a healthy series with no alert and no history costs no hashing or state.
    if (verdict.severity === null && !this.active.any(rule.instance.name)) return;
    const key = ActiveSeries.key(rule.instance.name, verdict.key ?? seriesKey(verdict.host, verdict.labels));
    let fp = this.active.get(key);
    if (fp === undefined) {
      if (verdict.severity === null) return;
      fp = fingerprint(verdict.host, rule.instance.name, verdict.labels);
      this.active.set(key, fp);
    }
    this.applyTo(rule, fp, key, verdict, moment, streamSeq);
    const record = this.deps.records.get(fp);
    if (!this.deps.state.series.has(fp) && record?.alert.status !== 'firing') this.active.delete(key);
  }

  private applyTo(
    rule: EngineRule,
    fp: string,
    key: string,
    verdict: Verdict,
    moment: Moment,
    streamSeq: number | null,
  ): void {
    const { state, lifecycle } = this.deps;
    const record = this.deps.records.get(fp);
    // Replaying events the alert's last transition already covered: the stored alert is newer than
    // anything they could say, so only the rule state catches up (and no stale `for` timer survives).
    if (streamSeq !== null && record !== undefined && streamSeq <= record.seq) {
      const stale = state.series.get(fp);
      if (stale) stale.pending = null;
      state.dropIfIdle(fp);
      return;
    }
    const series = state.seriesFor(fp);
    series.key = key;
    const seq = streamSeq ?? state.streamSeq;
    const flap = updateFlapping(series.history, severityLevel(verdict.severity), series.flapping, rule.flapping);
    if (flap.flapping !== series.flapping)
      this.setFlapping(rule, fp, series, verdict, flap.flapping, flap.percent, moment, seq);
    if (verdict.severity !== null) {
      if (record?.alert.status === 'firing') {
        series.pending = null;
        lifecycle.update(record, verdict, moment, seq);
      } else {
        series.pending = {
          rule: rule.instance.name,
          host: verdict.host,
          labels: verdict.labels,
          severity: verdict.severity,
          value: verdict.value,
          summary: verdict.summary,
          since: series.pending?.since ?? moment.at,
        };
        if (moment.at - series.pending.since >= rule.instance.forMs) this.fire(rule, fp, series, moment, seq);
      }
    } else {
      series.pending = null;
      if (record?.alert.status === 'firing') lifecycle.resolve(record, verdict, moment, seq);
    }
    state.dropIfIdle(fp);
  }

  private fire(rule: EngineRule, fp: string, series: SeriesState, moment: Moment, seq: number): void {
    const { lifecycle, logger } = this.deps;
    const pending = series.pending!;
    series.pending = null;
    const previous = this.deps.records.get(fp);
    // A timer restored from an older checkpoint for an alert the KV says already fires.
    if (previous?.alert.status === 'firing') return;
    const kind = rule.instance.kind;
    const inhibited = lifecycle.inhibition.inhibitedNow({ ...pending, ruleKind: kind });
    const record = firingRecord(
      {
        fingerprint: fp,
        host: pending.host,
        rule: rule.instance.name,
        ruleKind: kind,
        labels: pending.labels,
        severity: pending.severity,
        summary: pending.summary,
        value: pending.value,
        startsAt: moment.at,
        inhibited,
      },
      previous,
      seq,
      moment.now,
    );
    const { host, generation, severity } = record.alert;
    const fields = { host, rule: rule.instance.name, fingerprint: fp, generation, severity, inhibited };
    lifecycle.raise(record, moment);
    // Once the commit's first KV request is on the wire: formatting and handing over the line (~0.1 ms, ~1 ms at p90
    // on a busy box, bench e2e-log) was on every alert's way to its notification. Still ahead of that request's reply.
    setImmediate(() => logger.info(fields, 'alert firing'));
  }

  private setFlapping(
    rule: EngineRule,
    fp: string,
    series: SeriesState,
    verdict: Verdict,
    flapping: boolean,
    percent: number,
    moment: Moment,
    seq: number,
  ): void {
    series.flapping = flapping;
    const worst: Severity = series.history.some((level) => level >= 2) ? 'critical' : 'warning';
    const { host, labels } = verdict;
    this.deps.lifecycle.flapping(
      { host, rule: rule.instance.name, labels, fingerprint: fp },
      flapping,
      percent,
      worst,
      {
        ...moment,
        seq,
      },
    );
  }
}
