import { fingerprint, type Logger, type Severity } from '../../shared/index.ts';
import type { MuteFn } from '../mute/index.ts';
import { firingRecord, type AlertRecord } from './alert-record.ts';
import { reconcile, severityLevel } from './announce.ts';
import type { Verdict } from '../rules/index.ts';
import { type InhibitOptions, RuleInhibition } from './inhibition.ts';
import type { ReplayWindow } from './replay-window.ts';

/**
 * When a transition happened (`at`: event time for a rule judged on events, alerts/event-time.ts), the newest time
 * known then (`head`: the head of EVENTS in the same clock as `at`, intake/stream-head.ts; `at` itself when live;
 * absent for an event's, keeping the hot path as it was: the stream head then), and our clock (`now`: what
 * silences, acks and re-notification are measured against, and when the record changed). Whether a transition is
 * history is `head - at`, never `now - at`: two clocks need not agree.
 */
export interface Moment {
  at: number;
  head?: number;
  now: number;
}

/**
 * An alert's life once it fires: its generation's record goes live, its severity changes, it resolves, and a down
 * host holds back the host's other alerts (inhibition). Every change asks reconcile() (and so the engine's mute)
 * what people must hear, then commits the record. The engine decides *when* (rules, `for`, flapping); this, *how*.
 */
export class AlertLifecycle {
  constructor(
    private readonly deps: {
      records: Map<string, AlertRecord>;
      mute: MuteFn;
      commit: (record: AlertRecord) => void;
      logger: Logger;
      inhibit?: InhibitOptions | undefined;
      /** What a replay of history may tell (replay-window.ts). */
      window: ReplayWindow;
    },
  ) {
    this.inhibition = new RuleInhibition({
      rules: deps.inhibit?.rules ?? [],
      records: deps.records,
      hostDown: (host) => this.hostDown(host),
      mute: deps.mute,
      commit: deps.commit,
      onInhibited: deps.inhibit?.onInhibited,
    });
  }

  /** collector.yaml `inhibit_rules:`; their decision joins host-down's in each alert's `inhibited` flag. */
  readonly inhibition: RuleInhibition;

  /**
   * A new generation's record (firingRecord()) goes live: stored, told if nothing mutes it and it is not from a
   * replay of history, committed.
   */
  raise(record: AlertRecord, moment: Moment): void {
    const { now } = moment;
    this.deps.records.set(record.alert.fingerprint, record);
    this.deps.window.fired(record, moment);
    if (record.alert.ruleKind === 'host_down') this.setInhibition(record.alert.host, true, now, record);
    this.inhibition.refresh(now, record);
    reconcile(record, this.deps.mute, now);
    this.deps.commit(record);
  }

  /**
   * A firing alert's new verdict: value and summary follow; a severity change is committed, a rise is told; one
   * held back in a replay of history is told now if the verdict is recent.
   */
  update(record: AlertRecord, verdict: Verdict, moment: Moment, seq: number): void {
    const { at, now } = moment;
    const alert = record.alert;
    const rose = severityLevel(verdict.severity) > severityLevel(alert.severity);
    const changed = verdict.severity !== alert.severity;
    alert.value = verdict.value;
    alert.summary = verdict.summary;
    if (!changed) return this.catchUp(record, moment);
    const caughtUp = this.deps.window.caughtUp(record, moment);
    // Event time never goes back from event to event, but a tick's (a `for` that elapsed during a stalled feed) may
    // be later than a backlog event's: an alert's own times never go back.
    alert.ts = Math.max(at, alert.ts);
    alert.severity = verdict.severity!;
    record.seq = seq;
    record.updatedAt = now;
    if (rose) this.deps.window.fired(record, moment);
    if (rose || caughtUp) reconcile(record, this.deps.mute, now);
    this.deps.commit(record);
    this.inhibition.refresh(now, record);
  }

  /**
   * Evaluation reached `moment` and the alert still fires: what a replay of history held back is told now. Told, it
   * is an inhibit_rules source from now on (inhibition.ts): the targets it matches are held back, those already told
   * too (their repeats stop), as in Alertmanager, which judges inhibition when a notification is due.
   */
  catchUp(record: AlertRecord, moment: Moment): void {
    if (!this.deps.window.caughtUp(record, moment)) return;
    record.updatedAt = moment.now;
    reconcile(record, this.deps.mute, moment.now);
    this.deps.commit(record);
    this.inhibition.refresh(moment.now, record);
  }

  /**
   * A tick: a tick-driven rule (a log window) has judged its series at `moment`, so its alert still firing is
   * caught up as at an event; as is a flapping alert (no verdicts of its own). Another rule's waits for an event.
   */
  catchUpAtTick(record: AlertRecord, rule: { onTick?: unknown }, moment: Moment): void {
    if (rule.onTick || record.alert.ruleKind === 'flapping') this.catchUp(record, moment);
  }

  resolve(record: AlertRecord, verdict: Pick<Verdict, 'summary' | 'value'>, moment: Moment, seq: number): void {
    const { at, now } = moment;
    const alert = record.alert;
    alert.status = 'resolved';
    alert.ts = Math.max(at, alert.ts);
    alert.endsAt = alert.ts;
    alert.summary = verdict.summary || `${alert.host}: ${alert.rule} is back to normal`;
    alert.value = verdict.value;
    record.seq = seq;
    record.updatedAt = now;
    this.deps.logger.info(
      { host: alert.host, rule: alert.rule, fingerprint: alert.fingerprint, generation: alert.generation },
      'alert resolved',
    );
    reconcile(record, this.deps.mute, now);
    this.deps.window.resolved(record);
    this.deps.commit(record);
    if (alert.ruleKind === 'host_down') this.setInhibition(alert.host, false, now);
    this.inhibition.refresh(now);
  }

  /**
   * A series started or stopped flapping: one `flapping` alert (its labels + flapping="true") is told instead of
   * the fire/resolve stream; when it settles, the series' own state is told once if it differs from what people
   * last heard.
   */
  flapping(
    series: { host: string; rule: string; labels: Record<string, string>; fingerprint: string },
    flapping: boolean,
    percent: number,
    worst: Severity,
    moment: Moment & { seq: number },
  ): void {
    const { host, rule } = series;
    const { at, now, seq } = moment;
    const labels = { ...series.labels, flapping: 'true' };
    const flapFp = fingerprint(host, rule, labels);
    const previous = this.deps.records.get(flapFp);
    const percentText = `${Math.round(percent)} %`;
    const log = { host, rule, fingerprint: series.fingerprint, percent };
    if (flapping) {
      const summary =
        `${host}: ${rule} is flapping, its state changed ${percentText} of the last checks;` +
        ' notifications are paused until it settles';
      const spec = { fingerprint: flapFp, host, rule, ruleKind: 'flapping' as const, labels, severity: worst };
      const record = firingRecord(
        { ...spec, summary, value: Math.round(percent), startsAt: at, inhibited: this.inhibition.inhibitedNow(spec) },
        previous,
        seq,
        now,
      );
      this.deps.logger.warn(log, 'series started flapping');
      this.raise(record, moment);
    } else if (previous?.alert.status === 'firing') {
      this.deps.logger.info(log, 'series stopped flapping');
      const summary = `${host}: ${rule} stopped flapping (${percentText} state change)`;
      this.resolve(previous, { summary, value: Math.round(percent) }, moment, seq);
    }
    const underlying = this.deps.records.get(series.fingerprint);
    if (!flapping && underlying && reconcile(underlying, this.deps.mute, now)) this.deps.commit(underlying);
  }

  hostDown(host: string): boolean {
    for (const record of this.deps.records.values())
      if (record.alert.host === host && record.alert.ruleKind === 'host_down' && record.alert.status === 'firing')
        return true;
    return false;
  }

  /** A down host holds back its other alerts; the down alert says how many. */
  private setInhibition(host: string, inhibited: boolean, now: number, downRecord?: AlertRecord): void {
    let count = 0;
    for (const record of this.deps.records.values()) {
      const alert = record.alert;
      if (alert.host !== host || alert.ruleKind === 'host_down' || alert.status !== 'firing') continue;
      count += 1;
      // An inhibit rule may still hold it back once the host is up again.
      const held = inhibited || this.inhibition.ruleInhibits(alert);
      if (alert.inhibited === held) continue;
      alert.inhibited = held;
      record.updatedAt = now;
      reconcile(record, this.deps.mute, now);
      this.deps.commit(record);
    }
    if (downRecord && count > 0) {
      const others = `${count} other alert${count === 1 ? ' is' : 's are'}`;
      downRecord.alert.summary = `${downRecord.alert.summary}; ${others} held back until it is back`;
    }
  }
}
