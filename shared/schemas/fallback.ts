import * as z from 'zod';
import { Envelope } from './common.ts';
import { Alert } from './alert.ts';

/**
 * The gateway could not (or may not) phone about these alerts: it hands them to the collector's
 * notifiers instead, so a spent call budget or a dead line never means silence.
 * Subject: <prefix>.v1.fallback.<gateway host>. `host` is the gateway's host.
 */
/**
 * Why nobody was phoned. The first four end the escalation; the others come from the gateway's
 * `max_unannounced` sweep (an alert held unannounced too long: by the per-number limit, an escalation
 * wait such as retry_delay or round_delay, or the line being busy with other calls) while it goes on.
 */
export const FallbackReason = z.enum([
  'budget_exhausted',
  'line_down',
  'nobody_answered',
  'quiet_hours',
  'per_number_limit',
  'escalation_wait',
  'line_busy',
]);
export type FallbackReason = z.infer<typeof FallbackReason>;

export const FallbackRequest = Envelope.extend({
  reason: FallbackReason,
  detail: z.string().max(1000).default(''),
  alerts: z.array(Alert).min(1).max(1000),
});
export type FallbackRequest = z.infer<typeof FallbackRequest>;
