import * as z from 'zod';
import { AgentEnvelope, Labels, MAX_AGENT_COUNT, Severity } from './common.ts';

export const MAX_LOG_LINE_CHARS = 4096;

/** One log line that matched an agent-side rule. */
export const LogMatch = AgentEnvelope.extend({
  kind: z.literal('log'),
  file: z.string().min(1).max(1024),
  rule: z.string().min(1).max(200),
  severity: Severity,
  line: z.string().max(MAX_LOG_LINE_CHARS),
  truncated: z.boolean().default(false),
  inode: z.number().int().nonnegative(),
  offset: z.number().int().nonnegative(),
  labels: Labels.optional(),
  /** Matches of this rule dropped by the agent's flood limit since the previous published match. */
  suppressed: z.number().int().nonnegative().max(MAX_AGENT_COUNT).default(0),
});
export type LogMatch = z.infer<typeof LogMatch>;
