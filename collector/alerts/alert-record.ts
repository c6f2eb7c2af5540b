import { z } from 'zod';
import { Alert, EpochMs, Severity } from '../../shared/index.ts';

/** What people were last told about an alert: the basis for "announce only what changed". */
export const Announced = z.object({
  generation: z.number().int().positive(),
  status: z.enum(['firing', 'resolved']),
  severity: Severity,
});

export const OutboxEntry = z.object({
  reason: z.enum(['firing', 'repeat', 'resolved', 'flapping']),
  /** Transitions go to the ALERTS stream too; repeats only to the notifiers. */
  publish: z.boolean(),
  /** For repeats: a number unique to this re-notification, so the notification log dedups a redo after a crash. */
  repeat: z.number().int().nonnegative().optional(),
  alert: Alert,
});
export type OutboxEntry = z.infer<typeof OutboxEntry>;

/**
 * One alert's state in KV (key = fingerprint). `seq` is the EVENTS stream sequence the last
 * transition covered, so replaying older events after a crash changes nothing. `outbox` holds
 * announcements written before they are published and handed to the notifiers: a crash in
 * between means they are redone at start (ALERTS dedups by message id, the notification log by
 * fingerprint+generation), never lost.
 */
export const AlertRecord = z.object({
  alert: Alert,
  seq: z.number().int().nonnegative(),
  announced: Announced.nullable(),
  lastNotifiedAt: EpochMs,
  ack: z
    .object({
      generation: z.number().int().positive(),
      by: z.string(),
      until: EpochMs,
      at: EpochMs,
      comment: z.string().optional(),
    })
    .nullable(),
  outbox: z.array(OutboxEntry),
  updatedAt: EpochMs,
});
export type AlertRecord = z.infer<typeof AlertRecord>;

/** Stable message id per transition: a re-publish after a crash is dropped by the ALERTS stream's dedup. */
export function alertMessageId(fingerprint: string, generation: number, status: string, severity: string): string {
  return `${fingerprint}.${generation}.${status}.${severity}`;
}

export function cloneRecord(record: AlertRecord): AlertRecord {
  return structuredClone(record);
}
