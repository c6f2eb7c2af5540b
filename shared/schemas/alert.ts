import { z } from 'zod';
import { EpochMs, Envelope, Fingerprint, Labels, Severity } from './common.ts';

export const AlertStatus = z.enum(['firing', 'resolved']);
export const RuleKind = z.enum(['threshold', 'check', 'log', 'host_down', 'flapping', 'external', 'watchdog']);

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
