import * as z from 'zod';
import { EpochMs, Envelope, Fingerprint, Labels, Severity } from './common.ts';

export const AlertStatus = z.enum(['firing', 'resolved']);
/**
 * The kind of rule that raised an alert, as carried on the wire: an open name, not an enum. The collector owns the
 * set (its rule registry plus the kinds it and the gateway raise themselves: flapping, external, watchdog) and checks
 * its own kinds against this pattern; readers only branch on the kinds they know, so a collector with a new rule kind
 * never makes an older gateway or console reject its alerts.
 */
export const RuleKind = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, {
  error: 'expected a rule kind of lower-case letters, digits and _ (at most 40), e.g. threshold or host_down',
});

export const Alert = Envelope.extend({
  fingerprint: Fingerprint,
  status: AlertStatus,
  severity: Severity,
  rule: z.string().min(1).max(200),
  ruleKind: RuleKind,
  labels: Labels,
  /** One sentence a person can understand when it is read out on the phone. */
  summary: z.string().min(1).max(500),
  value: z.number().nullable(),
  startsAt: EpochMs,
  /** 0 while firing; the resolve time once resolved. */
  endsAt: EpochMs,
  generation: z.number().int().positive(),
  /** True while this alert is suppressed by a down host (it is still tracked, not notified). */
  inhibited: z.boolean().default(false),
  acknowledged: z.boolean().default(false),
});
export type Alert = z.infer<typeof Alert>;
