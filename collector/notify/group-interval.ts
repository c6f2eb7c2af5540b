import { type Alert, alertmanagerLabels } from '../../shared/index.ts';
import { compareAlerts } from './aggregation.ts';
import type { NotificationGroup } from './types.ts';

/**
 * Alertmanager's group_interval for one receiver queue: once a group has been notified, its next notification goes
 * on the group's flush grid (first flush + k × group_interval, as aggregation.ts's `flushOne` times it) and carries
 * the whole group: every alert still firing that the receiver was told of, plus what changed (new firing alerts and
 * resolves). Only what changed is a durable queue item (pending in the notification log); the rest of the group is
 * context kept here in memory, because the receiver already has it logged as sent. A restart forgets the context:
 * the next notification of the group then carries only what changed, as it did before group_interval.
 */
interface GroupState {
  /** When the group was first flushed; later flushes fall on this + k × interval. */
  firstFlushAt: number;
  interval: number;
  /** Firing alerts the receiver was told of, by fingerprint (the version last sent). */
  firing: Map<string, Alert>;
}

export class GroupIntervals {
  private readonly groups = new Map<string, GroupState>();

  /** When a change to `group` may go: the next flush of an already notified group, else undefined (group_wait). */
  readyAt(group: NotificationGroup | undefined, now: number): number | undefined {
    const state = group ? this.groups.get(group.key) : undefined;
    if (!state) return undefined;
    // The first flush on the grid strictly after `now`: a flush at `now` has gone already (Alertmanager's ticker).
    const ticks = Math.max(0, Math.floor((now - state.firstFlushAt) / state.interval)) + 1;
    return state.firstFlushAt + ticks * state.interval;
  }

  /** Whether a batch of `group` may mix firing and resolved alerts (Alertmanager's whole-group notification). */
  wholeGroup(group: NotificationGroup | undefined): boolean {
    return (group?.interval ?? 0) > 0;
  }

  /** Called when a batch of the group is taken: starts the flush grid of a group notified for the first time. */
  flushed(group: NotificationGroup | undefined, now: number): void {
    if (!group?.interval || this.groups.has(group.key)) return;
    this.groups.set(group.key, { firstFlushAt: now, interval: group.interval, firing: new Map() });
  }

  /** The batch's alerts plus the group's other firing alerts the receiver was told of, in Alertmanager's order. */
  payload(group: NotificationGroup | undefined, alerts: Alert[]): Alert[] {
    const state = group ? this.groups.get(group.key) : undefined;
    if (!state || state.firing.size === 0) return alerts;
    const changed = new Set(alerts.map((a) => a.fingerprint));
    const context = [...state.firing.values()].filter((a) => !changed.has(a.fingerprint));
    if (context.length === 0) return alerts;
    return sortLikeAlertmanager([...context, ...alerts]);
  }

  /** After a delivery: the receiver now knows these alerts' states; a group with nothing firing ends. */
  delivered(group: NotificationGroup | undefined, alerts: Alert[]): void {
    const state = group ? this.groups.get(group.key) : undefined;
    if (!state) return;
    for (const alert of alerts) {
      if (alert.status === 'firing') state.firing.set(alert.fingerprint, alert);
      else state.firing.delete(alert.fingerprint);
    }
    // Alertmanager drops a group once its alerts resolved; the next alert starts a new group_wait.
    if (state.firing.size === 0) this.groups.delete(group!.key);
  }

  /** A resolve this receiver is not sent (no send_resolved): Alertmanager still takes it out of the group. */
  forget(group: NotificationGroup, fingerprint: string): void {
    const state = this.groups.get(group.key);
    // Only a member's leaving can end the group: a first notification still in flight has no members yet.
    if (!state?.firing.delete(fingerprint)) return;
    if (state.firing.size === 0) this.groups.delete(group.key);
  }
}

function sortLikeAlertmanager(alerts: Alert[]): Alert[] {
  const view = alerts.map((alert) => ({
    alert,
    fingerprint: alert.fingerprint,
    labels: alertmanagerLabels(alert),
    resolved: alert.status !== 'firing',
    startsAt: alert.startsAt,
  }));
  return view.sort(compareAlerts).map((v) => v.alert);
}
