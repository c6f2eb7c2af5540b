import type { Alert } from '../../shared/index.ts';
import type { GatewayConfig, Person } from '../config.ts';
import { resolveTarget, type EscalationState, type Finished } from './escalation.ts';
import { severityRank } from './schedule.ts';

export interface QueuedAlert {
  alert: Alert;
  receivedAt: number;
  escalation: EscalationState;
  /** The line has been seized for this alert once (the alert-to-off-hook latency is measured once). */
  offHookSeen?: boolean;
  /** Named to a person in an answered call (persisted with the escalation). */
  announced?: boolean;
  /** Sent to the fallback receivers by the max_unannounced sweep: once per alert generation (persisted). */
  unannouncedFallback?: boolean;
  /** Why the last call for it was not placed (a per-number limit): the sweep's reason while it waits. */
  heldBy?: 'per_number_limit';
}

export interface PlannedCall {
  person: number;
  /** Worst first: critical before warning, then oldest. */
  alerts: QueuedAlert[];
}

export type Plan =
  | { kind: 'call'; call: PlannedCall; finished: Array<{ entry: QueuedAlert; result: Finished }> }
  | { kind: 'idle'; wakeAt: number | null; finished: Array<{ entry: QueuedAlert; result: Finished }> };

/** Critical before warning, then the oldest problem first. */
export function byUrgency(a: QueuedAlert, b: QueuedAlert): number {
  return (
    severityRank(b.alert.severity) - severityRank(a.alert.severity) ||
    a.alert.startsAt - b.alert.startsAt ||
    a.receivedAt - b.receivedAt
  );
}

/**
 * The alerts waiting for the line, one entry per fingerprint. The line worker asks it for the next
 * call; everything due for the same person at that moment goes into that one call.
 */
export class CallQueue {
  private readonly entries = new Map<string, QueuedAlert>();

  constructor(
    private readonly people: readonly Person[],
    private readonly policy: GatewayConfig['escalation'],
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(fingerprint: string): QueuedAlert | undefined {
    return this.entries.get(fingerprint);
  }

  has(fingerprint: string): boolean {
    return this.entries.has(fingerprint);
  }

  /** Adds a firing alert, or refreshes its text when it is already queued (escalation progress is kept). */
  upsert(alert: Alert, receivedAt: number, escalation: EscalationState): QueuedAlert {
    const existing = this.entries.get(alert.fingerprint);
    if (existing) {
      existing.alert = alert;
      return existing;
    }
    const entry: QueuedAlert = { alert, receivedAt, escalation };
    this.entries.set(alert.fingerprint, entry);
    return entry;
  }

  remove(fingerprint: string): QueuedAlert | undefined {
    const entry = this.entries.get(fingerprint);
    this.entries.delete(fingerprint);
    return entry;
  }

  all(): QueuedAlert[] {
    return [...this.entries.values()].sort(byUrgency);
  }

  /**
   * Decides what the line does next: the most urgent due alert picks the person, and every other
   * alert due for that same person joins the call. Alerts whose escalation ran out (nobody callable)
   * are handed back in `finished` and removed.
   */
  plan(now: number): Plan {
    const finished: Array<{ entry: QueuedAlert; result: Finished }> = [];
    const due = new Map<number, QueuedAlert[]>();
    let wakeAt: number | null = null;
    for (const entry of this.all()) {
      const target = resolveTarget(entry.escalation, entry.alert.severity, this.people, this.policy, now);
      if ('done' in target) {
        this.entries.delete(entry.alert.fingerprint);
        finished.push({ entry, result: target });
        continue;
      }
      entry.escalation = target.state;
      if (target.kind === 'wait') {
        wakeAt = wakeAt === null ? target.state.nextAt : Math.min(wakeAt, target.state.nextAt);
        continue;
      }
      const list = due.get(target.person) ?? [];
      list.push(entry);
      due.set(target.person, list);
    }
    const first = [...due.entries()].sort(([, a], [, b]) => byUrgency(a[0]!, b[0]!))[0];
    if (!first) return { kind: 'idle', wakeAt, finished };
    const [person, alerts] = first;
    const inCall = new Set(alerts.map((e) => e.alert.fingerprint));
    return {
      kind: 'call',
      call: { person, alerts: [...alerts, ...this.dueFor(person, now, inCall)].sort(byUrgency) },
      finished,
    };
  }

  /**
   * Other alerts this person should hear about now: due for them, or waiting for them (group_wait,
   * retry delay). The call is happening anyway, and one call for everything beats several (a storm is one call).
   */
  dueFor(person: number, now: number, exclude: ReadonlySet<string>): QueuedAlert[] {
    return this.all().filter((entry) => {
      if (exclude.has(entry.alert.fingerprint)) return false;
      const asIfDue = { ...entry.escalation, nextAt: Math.min(entry.escalation.nextAt, now) };
      const target = resolveTarget(asIfDue, entry.alert.severity, this.people, this.policy, now);
      return (
        !('done' in target) &&
        target.kind === 'call' &&
        target.person === person &&
        target.state.round === entry.escalation.round
      );
    });
  }
}
