import * as z from 'zod';
import { Duration } from '../../shared/index.ts';

/**
 * collector.yaml `group:` — several collectors sharing the hosts. Hosts fall into `partitions` by a hash of their
 * name; each partition is evaluated by one member at a time (a lease in KV). Every member must use the same count.
 */
export const GroupConfig = z
  .object({
    /** How many partitions the hosts are split into (1 = one collector evaluates everything, the others stand by). */
    partitions: z.number().int().min(1).max(256).default(1),
    /** A lease whose revision has not advanced for this long is stale: its member is taken for dead. */
    lease_timeout: Duration.default(10_000).refine((ms) => ms >= 1000, 'expected lease_timeout of at least 1s'),
  })
  .strict();
export type GroupConfig = z.infer<typeof GroupConfig>;

export const DEFAULT_GROUP: GroupConfig = GroupConfig.parse({});
