import { z } from 'zod';
import { AgentEnvelope } from './common.ts';

/**
 * Liveness beacon on core NATS. `seq` is the last event sequence number the agent assigned,
 * so the collector can tell "alive but events lost" from "alive and caught up".
 */
export const Heartbeat = AgentEnvelope.extend({
  kind: z.literal('heartbeat'),
  agentVersion: z.string().max(64),
  uptimeSec: z.number().nonnegative(),
  intervalMs: z.number().int().positive(),
  spoolDepth: z.number().int().nonnegative().default(0),
});
export type Heartbeat = z.infer<typeof Heartbeat>;
