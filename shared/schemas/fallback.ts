import { z } from 'zod';
import { Envelope } from './common.ts';
import { Alert } from './alert.ts';

/**
 * The gateway could not (or may not) phone about these alerts: it hands them to the collector's
 * notifiers instead, so a spent call budget or a dead line never means silence.
 * Subject: <prefix>.v1.fallback.<gateway host>. `host` is the gateway's host.
 */
export const FallbackRequest = Envelope.extend({
  reason: z.enum(['budget_exhausted', 'line_down', 'nobody_answered', 'quiet_hours']),
  detail: z.string().max(1000).default(''),
  alerts: z.array(Alert).min(1).max(1000),
});
export type FallbackRequest = z.infer<typeof FallbackRequest>;
