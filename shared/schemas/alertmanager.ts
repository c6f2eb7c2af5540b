import * as z from 'zod';
import { Labels } from './common.ts';

/**
 * Prometheus Alertmanager's webhook payload, version 4 (what Alertmanager 0.19+ posts), defined once: the collector's
 * webhook and exec notifiers build its JSON form (`z.input`, times as RFC 3339 text) and the gateway's Alertmanager
 * bridge validates what it receives with it (`z.infer`, times as epoch ms).
 */

/** Go's zero time: Alertmanager's endsAt for an alert that is still firing. */
export const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
export const GO_ZERO_TIME_MS = Date.parse(GO_ZERO_TIME);

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time as Go marshals it (nanoseconds allowed), turned into epoch ms; the zero time stays recognisable. */
const Rfc3339 = z
  .string()
  .max(40)
  .regex(RFC3339_RE, { error: 'expected an RFC 3339 time such as "2024-05-01T10:00:00Z"' })
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected a real date and time' });
      return z.NEVER;
    }
    return ms;
  });

/** Values we never read are still bounded so a hostile payload cannot make us hold megabytes per alert. */
const TextMap = z
  .record(z.string().max(256), z.string().max(64 * 1024))
  .refine((map) => Object.keys(map).length <= 256, { error: 'at most 256 entries' });

export const AlertmanagerAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: TextMap,
  startsAt: Rfc3339,
  endsAt: Rfc3339,
  generatorURL: z.string().max(8192).optional(),
  /** Sent by Alertmanager 0.19 and later: 16 hex digits, a hash of the label set. */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{1,16}$/, { error: 'expected up to 16 lowercase hex digits' })
    .optional(),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;
/** One alert as it goes over the wire. */
export type AlertmanagerAlertJson = z.input<typeof AlertmanagerAlert>;

/** The Alertmanager webhook payload, version 4. Unknown extra fields (Grafana adds some) are allowed and ignored. */
export const AlertmanagerPayload = z.object({
  version: z.literal('4', { error: 'expected "4" (the Alertmanager webhook payload version this gateway reads)' }),
  groupKey: z.string().max(64 * 1024),
  /** Added in Alertmanager 0.22; older versions do not send it. */
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: TextMap,
  commonLabels: TextMap,
  commonAnnotations: TextMap,
  externalURL: z.string().max(8192),
  alerts: z
    .array(AlertmanagerAlert)
    .max(10_000, { error: 'expected at most 10000 alerts per notification (set max_alerts on the receiver)' }),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;
/** The payload as it goes over the wire. */
export type AlertmanagerPayloadJson = z.input<typeof AlertmanagerPayload>;
