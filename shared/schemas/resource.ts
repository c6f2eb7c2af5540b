import * as z from 'zod';
import { AgentEnvelope, AgentIntervalMs, Labels, METRIC_NAME_RE } from './common.ts';

export const MetricPoint = z.object({
  name: z.string().regex(METRIC_NAME_RE, { error: 'metric names must match [a-zA-Z_:][a-zA-Z0-9_:]*' }),
  type: z.enum(['gauge', 'counter']),
  // zod 4's number() refuses NaN and ±Infinity itself (test/shared/schemas.test.ts); JSON cannot carry them anyway.
  value: z.number(),
  labels: Labels.optional(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** A batch of gauges and counters sampled at one instant (`ts`). */
export const ResourceSample = AgentEnvelope.extend({
  kind: z.literal('resource'),
  intervalMs: AgentIntervalMs,
  metrics: z.array(MetricPoint).max(5000),
});
export type ResourceSample = z.infer<typeof ResourceSample>;
