import type { Alert } from '../../shared/index.ts';
import type { MuteFn } from '../mute/index.ts';
import { inhibitingRule, type InhibitRule } from '../mute/inhibit-rules.ts';

export type { InhibitRule };

export interface InhibitOptions {
  rules: InhibitRule[];
  /** A firing alert became held back by a rule (offhook_alerts_inhibited_total). */
  onInhibited?: (alert: InhibitSubject) => void;
}
import { silenceTarget } from '../silences/index.ts';
import type { AlertRecord } from './alert-record.ts';
import { reconcile } from './announce.ts';

/** What a spec of an alert needs to be matched: the labels silences and inhibit rules see (silenceTarget). */
export type InhibitSubject = Pick<Alert, 'host' | 'rule' | 'ruleKind' | 'severity' | 'labels'>;

/**
 * collector.yaml `inhibit_rules:` over one engine's alerts, beside the built-in host-down inhibition (which only
 * this engine's records can feed: a host and its alerts always share a partition). The decision lands in the
 * alert's `inhibited` flag, so a snapshot (the notification pipeline's mute stage, status, console) carries it.
 */
export class RuleInhibition {
  constructor(
    private readonly deps: {
      rules: readonly InhibitRule[];
      records: Map<string, AlertRecord>;
      hostDown: (host: string) => boolean;
      mute: MuteFn;
      commit: (record: AlertRecord) => void;
      /** A firing alert became held back by a rule (offhook_alerts_inhibited_total). */
      onInhibited?: ((alert: InhibitSubject) => void) | undefined;
    },
  ) {}

  /** Whether an inhibit rule holds this alert back now (Alertmanager's Inhibitor.Mutes over our firing alerts). */
  ruleInhibits(alert: InhibitSubject, firing = this.firingLabels()): boolean {
    return this.deps.rules.length > 0 && inhibitingRule(this.deps.rules, silenceTarget(alert), firing) >= 0;
  }

  /** A new alert starts held back: its host is down (not for host_down itself), or a rule has a firing source. */
  inhibitedNow(alert: InhibitSubject): boolean {
    if (alert.ruleKind !== 'host_down' && this.deps.hostDown(alert.host)) return true;
    const held = this.ruleInhibits(alert);
    if (held) this.deps.onInhibited?.(alert);
    return held;
  }

  /**
   * Re-evaluates every firing alert after a source may have changed (fired, changed severity, resolved); one held
   * back or let go is reconciled (a let-go firing is told now) and committed. O(firing²) per change, and nothing
   * without rules.
   */
  refresh(now: number, except?: AlertRecord): void {
    if (this.deps.rules.length === 0) return;
    const firing = this.firingLabels();
    for (const record of this.deps.records.values()) {
      const alert = record.alert;
      if (record === except || alert.status !== 'firing') continue;
      const down = alert.ruleKind !== 'host_down' && this.deps.hostDown(alert.host);
      const held = down || this.ruleInhibits(alert, firing);
      if (held === alert.inhibited) continue;
      alert.inhibited = held;
      if (held) this.deps.onInhibited?.(alert);
      reconcile(record, this.deps.mute, now);
      this.deps.commit(record);
    }
  }

  /**
   * The sources: firing alerts people were told about. A quiet one (replayed history, not told: replay-window.ts) is
   * not one: as in Alertmanager, where only alerts it received inhibit, and an untold alert holding back a live one
   * would leave both untold.
   */
  private firingLabels(): Record<string, string>[] {
    const labels: Record<string, string>[] = [];
    if (this.deps.rules.length === 0) return labels;
    for (const r of this.deps.records.values())
      if (r.alert.status === 'firing' && !r.quiet) labels.push(silenceTarget(r.alert));
    return labels;
  }
}
