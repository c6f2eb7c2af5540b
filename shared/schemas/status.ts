import * as z from 'zod';
import { EpochMs, Fingerprint, HostToken, Severity } from './common.ts';

/**
 * Answers to `offhook status`: each running collector and gateway replies on
 * <prefix>.v1.status.{collector,gateway} with what only it knows (live host liveness, the call queue, budget).
 */
export const StatusAlert = z.object({
  fingerprint: Fingerprint,
  host: HostToken,
  rule: z.string(),
  severity: Severity,
  summary: z.string(),
  startsAt: EpochMs,
  acknowledged: z.boolean(),
  silenced: z.boolean(),
  inhibited: z.boolean(),
  /**
   * What of it nobody was told: its firing came from a replay of history older than the collector's
   * replay.announce_within ("not announced: replayed history"). Null (absent from older collectors): told.
   */
  untold: z.string().nullable().default(null),
});

export const CollectorStatus = z.object({
  component: z.literal('collector'),
  node: z.string(),
  ts: EpochMs,
  hosts: z.array(
    z.object({
      host: HostToken,
      down: z.boolean(),
      lastHeartbeatAt: EpochMs,
      lastEventAt: EpochMs,
      agentVersion: z.string(),
    }),
  ),
  firing: z.array(StatusAlert),
  silences: z.number().int().nonnegative(),
  /**
   * A collector group: every partition's owner and its lag behind EVENTS (hosts and firing are the answering member's).
   */
  partitions: z
    .array(
      z.object({
        partition: z.number().int().nonnegative(),
        member: z.string().nullable(),
        seq: z.number().int().nonnegative(),
        lag: z.number().int().nonnegative(),
      }),
    )
    .optional(),
});
export type CollectorStatus = z.infer<typeof CollectorStatus>;

/**
 * What the gateway's line is doing (absent from older gateways). `ringing` is an inbound ring or, once the number is
 * dialled, an outbound call ringing at the far end (drivers that cannot tell stay `dialling` until answered).
 */
export const LineState = z.enum([
  'idle',
  'ringing',
  'dialling',
  'connected',
  'speaking',
  'waiting_for_key',
  'recording',
]);
export type LineState = z.infer<typeof LineState>;

export const GatewayStatus = z.object({
  component: z.literal('gateway'),
  node: z.string(),
  ts: EpochMs,
  gatewayHost: HostToken,
  line: z.object({
    driver: z.string(),
    up: z.boolean(),
    busy: z.boolean(),
    state: LineState.optional(),
    /** Who is on the line and since when (the caller ID for inbound calls). */
    call: z
      .object({ direction: z.enum(['outbound', 'inbound']), number: z.string(), since: EpochMs })
      .nullable()
      .optional(),
  }),
  queue: z.array(
    z.object({
      fingerprint: Fingerprint,
      host: HostToken,
      rule: z.string(),
      severity: Severity,
      round: z.number().int().nonnegative(),
      /** The escalation: who is called next and when, attempts on them this round, calls made (absent: older). */
      escalation: z
        .object({
          next: z.string().nullable(),
          nextAt: z.number(),
          attempts: z.number().int().nonnegative(),
          callsMade: z.number().int().nonnegative(),
        })
        .optional(),
    }),
  ),
  /** What is left of each total limit (null = no limit). */
  budget: z.record(z.string(), z.number().nullable()),
  /** The currency of budget.cost_per_day (absent from older gateways). */
  currency: z.string().optional(),
  /** The gateway's watchdog: what makes offhook blind now, and the incident's state (absent from older gateways). */
  watchdog: z
    .object({
      enabled: z.boolean(),
      blind: z.array(z.enum(['nats', 'collector', 'canary'])),
      incident: z.enum(['calling', 'acknowledged', 'ended']).nullable(),
    })
    .optional(),
});
export type GatewayStatus = z.infer<typeof GatewayStatus>;
