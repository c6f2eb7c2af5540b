import type { Severity } from '../../shared/index.ts';
import { alertMessageId, type AlertRecord } from './alert-record.ts';

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

export function severityLevel(severity: Severity | null): number {
  return severity === null ? 0 : Math.max(1, RANK[severity]);
}

export interface MuteState {
  silenced: boolean;
  /** Flap suppression also holds back resolutions: the flapping alert speaks for the series. */
  flapping: boolean;
}

/**
 * The collector's own `external` alerts are about the telephony gateway (gateway-alerts.ts): its line
 * is down or its budget spent, so they go to the notifiers only, never to ALERTS, where the gateway would phone.
 */
export function publishesToAlerts(alert: { ruleKind: string }): boolean {
  return alert.ruleKind !== 'external';
}

export function ackCovers(record: AlertRecord, now: number): boolean {
  const ack = record.ack;
  return ack !== null && ack.generation === record.alert.generation && (ack.until === 0 || now < ack.until);
}

/**
 * Decides what people must hear so that what they last heard matches the alert's state, and
 * queues it in the record's outbox. Firing is told only when nothing mutes it (silence, host
 * down, flapping); a severity rise is told again unless acknowledged; a resolution is told
 * whenever a firing was told and flapping does not hold it back.
 */
export function reconcile(record: AlertRecord, mute: MuteState, now: number): boolean {
  const alert = record.alert;
  const told = record.announced;
  if (alert.status === 'firing') {
    if (mute.silenced || mute.flapping || alert.inhibited) return false;
    const toldThisGeneration = told !== null && told.generation === alert.generation && told.status === 'firing';
    if (toldThisGeneration && (RANK[alert.severity] <= RANK[told.severity] || ackCovers(record, now))) return false;
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
  if (told?.status !== 'firing' || mute.flapping) return false;
  alert.id = alertMessageId(alert.fingerprint, alert.generation, alert.status, alert.severity);
  record.outbox.push({ reason: 'resolved', publish: publishesToAlerts(alert), alert: { ...alert } });
  record.announced = { generation: alert.generation, status: 'resolved', severity: alert.severity };
  return true;
}

/** Re-notification while firing, told, unmuted and not acknowledged. */
export function repeatDue(record: AlertRecord, mute: MuteState, repeatMs: number, now: number): boolean {
  const alert = record.alert;
  if (
    repeatMs <= 0 ||
    alert.status !== 'firing' ||
    mute.silenced ||
    mute.flapping ||
    alert.inhibited ||
    ackCovers(record, now)
  )
    return false;
  if (record.announced?.generation !== alert.generation || record.announced.status !== 'firing') return false;
  return now - record.lastNotifiedAt >= repeatMs;
}
