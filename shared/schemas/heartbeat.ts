import * as z from 'zod';
import { AgentEnvelope, AgentIntervalMs, MAX_AGENT_COUNT } from './common.ts';

const CENTURY_SEC = 100 * 365 * 86_400;

/**
 * Liveness beacon on core NATS. `seq` is the last event sequence number the agent assigned,
 * so the collector can tell "alive but events lost" from "alive and caught up".
 */
export const Heartbeat = AgentEnvelope.extend({
  kind: z.literal('heartbeat'),
  agentVersion: z.string().max(64),
  uptimeSec: z.number().nonnegative().max(CENTURY_SEC),
  /** The agent's heartbeat_interval, within its config bounds (host_down's threshold is a multiple of it). */
  intervalMs: AgentIntervalMs,
  spoolDepth: z.number().int().nonnegative().max(MAX_AGENT_COUNT).default(0),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
