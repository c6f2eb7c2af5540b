import type { Severity } from '../../shared/index.ts';
import type { MuteFn } from '../mute/index.ts';
import { alertMessageId, type AlertRecord } from './alert-record.ts';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityLevel(severity: Severity | null): number {
  return severity === null ? 0 : Math.max(1, RANK[severity]);
}

/**
 * The collector's own `external` alerts are about the telephony gateway (gateway-alerts.ts): its line
 * is down or its budget spent, so they go to the notifiers only, never to ALERTS, where the gateway would phone.
 */
export function publishesToAlerts(alert: { ruleKind: string }): boolean {
  return alert.ruleKind !== 'external';
}

/**
 * Decides what people must hear so that what they last heard matches the alert's state, and
 * queues it in the record's outbox. Whether something may be told is `mute`'s (mute/mute.ts):
 * the first firing of a generation, a severity rise within it (a fall is not told) and the
 * resolution of a told firing each ask it once.
 */
export function reconcile(record: AlertRecord, mute: MuteFn, now: number): boolean {
  const alert = record.alert;
  const told = record.announced;
  if (alert.status === 'firing') {
    // Held back: it fired (or rose) in a replay of history; told when evaluation catches up (replay-window.ts).
    if (record.quiet) return false;
    const toldThisGeneration = told !== null && told.generation === alert.generation && told.status === 'firing';
    if (toldThisGeneration && RANK[alert.severity] <= RANK[told.severity]) return false;
    if (mute(record, now, toldThisGeneration ? 'rise' : 'firing').muted) return false;
    alert.id = alertMessageId(alert.fingerprint, alert.generation, alert.status, alert.severity);
    // A rise within one generation is a fresh page for the notifiers (its own log key), not a repeat of the old one.
    const publish = publishesToAlerts(alert);
    if (toldThisGeneration) record.outbox.push({ reason: 'repeat', repeat: now, publish, alert: { ...alert } });
    else
      record.outbox.push({
        reason: alert.ruleKind === 'flapping' ? 'flapping' : 'firing',
        publish,
        alert: { ...alert },
      });
    record.announced = { generation: alert.generation, status: 'firing', severity: alert.severity };
    record.lastNotifiedAt = now;
    return true;
  }
  if (told?.status !== 'firing') return false;
  // Nobody was told this quiet generation fired, so its resolution is not told either (replay-window.ts).
  if (record.quiet && told.generation !== alert.generation) return false;
  if (mute(record, now, 'resolved').muted) return false;
  alert.id = alertMessageId(alert.fingerprint, alert.generation, alert.status, alert.severity);
  record.outbox.push({ reason: 'resolved', publish: publishesToAlerts(alert), alert: { ...alert } });
  record.announced = { generation: alert.generation, status: 'resolved', severity: alert.severity };
  return true;
}

/** Re-notification of a told firing, `repeatMs` after the last one, unless `mute` holds repeats back. */
export function repeatDue(record: AlertRecord, mute: MuteFn, repeatMs: number, now: number): boolean {
  const alert = record.alert;
  if (repeatMs <= 0 || alert.status !== 'firing') return false;
  if (record.announced?.generation !== alert.generation || record.announced.status !== 'firing') return false;
  if (now - record.lastNotifiedAt < repeatMs) return false;
  return !mute(record, now, 'repeat').muted;
}

/** Queues a re-notification in the record's outbox (to the notifiers only: ALERTS has the transition already). */
export function queueRepeat(record: AlertRecord, now: number): void {
  record.lastNotifiedAt = now;
  record.outbox.push({ reason: 'repeat', repeat: now, publish: false, alert: { ...record.alert } });
}
