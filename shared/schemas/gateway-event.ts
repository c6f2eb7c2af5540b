import * as z from 'zod';
import { Envelope, Fingerprint } from './common.ts';

/**
 * Something about the telephony gateway itself an operator must know (not an alert about a host).
 * Subject: <prefix>.v1.gateway.<gateway host>. `host` is the gateway's host.
 */
export const GatewayEvent = Envelope.extend({
  kind: z.enum(['budget_exhausted', 'line_down']),
  /** Which limit ran out (calls_per_hour, call_minutes_per_day, ...) or what failed on the line. */
  limit: z.string().max(100).default(''),
  detail: z.string().max(1000).default(''),
  /** Alerts that could not be phoned because of it. */
  fingerprints: z.array(Fingerprint).max(1000).default([]),
});
export type GatewayEvent = z.infer<typeof GatewayEvent>;
