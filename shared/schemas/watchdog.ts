import * as z from 'zod';
import { Envelope, HostToken, type Labels } from './common.ts';

/**
 * Which partitions of the event stream a collector member evaluates. Today one collector owns the single partition
 * ({ count: 1, owned: [0] }); with collector groups each of `count` partitions is owned by one member, and the
 * gateway's watchdog checks that every partition 0..count-1 is owned by a live member.
 */
export const PartitionClaim = z
  .object({
    count: z.number().int().min(1).max(4096),
    owned: z.array(z.number().int().nonnegative()).max(4096),
  })
  .refine((claim) => claim.owned.every((p) => p < claim.count), {
    error: 'owned partitions must each be below count',
    path: ['owned'],
  });
export type PartitionClaim = z.infer<typeof PartitionClaim>;

/**
 * A collector member says it is alive (core NATS, not stored). Subject: <prefix>.v1.collector.heartbeat.<member>.
 * `host` is the host the collector runs on; `member` names the member (unique per collector process).
 */
export const CollectorHeartbeat = Envelope.extend({
  kind: z.literal('collector_heartbeat'),
  member: HostToken,
  collectorVersion: z.string().max(64),
  uptimeSec: z.number().nonnegative(),
  intervalMs: z.number().int().positive(),
  partitions: PartitionClaim,
});
export type CollectorHeartbeat = z.infer<typeof CollectorHeartbeat>;

/**
 * The telephony gateway says it is alive (core NATS, not stored).
 * Subject: <prefix>.v1.gateway.heartbeat.<gateway host>.
 * The collector raises `gateway_silent` for the notifiers when it stops.
 */
export const GatewayHeartbeat = Envelope.extend({
  kind: z.literal('gateway_heartbeat'),
  gatewayVersion: z.string().max(64),
  uptimeSec: z.number().nonnegative(),
  intervalMs: z.number().int().positive(),
  lineUp: z.boolean(),
  /** What the gateway's own watchdog currently sees (empty when all is well). */
  blind: z
    .array(z.enum(['nats', 'collector', 'canary']))
    .max(3)
    .default([]),
});
export type GatewayHeartbeat = z.infer<typeof GatewayHeartbeat>;

/** The canary alert's rule, ruleKind and marker label (see isCanary). */
export const CANARY_RULE = 'watchdog_canary';
export const WATCHDOG_LABEL = 'offhook_watchdog';

/**
 * The collector's end-to-end canary: an alert (ruleKind `watchdog`, label offhook_watchdog=canary) published on
 * ALERTS every canary period. The gateway counts it and never phones about it; the notifiers never send it.
 */
export function isCanary(alert: { ruleKind: string; labels: Labels }): boolean {
  return alert.ruleKind === 'watchdog' && alert.labels[WATCHDOG_LABEL] === 'canary';
}
