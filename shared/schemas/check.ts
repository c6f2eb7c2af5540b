import * as z from 'zod';
import { AgentEnvelope, CheckStatus, Labels } from './common.ts';
import { MetricPoint } from './resource.ts';

/** Outcome of one port/service/process probe run by an agent. */
export const CheckResult = AgentEnvelope.extend({
  kind: z.literal('check'),
  check: z.string().min(1).max(200),
  checkKind: z.string().min(1).max(64),
  status: CheckStatus,
  message: z.string().max(2000),
  /** A probe runs at most a day (check timeouts are far shorter). */
  latencyMs: z.number().nonnegative().max(86_400_000).nullable(),
  target: z.string().max(500).optional(),
  labels: Labels.optional(),
  /** Extra numbers the probe measured (certificate days left, busy workers, perfdata). */
  metrics: z.array(MetricPoint).max(200).optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;
