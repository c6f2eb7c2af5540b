import * as z from 'zod';
import { Duration, DurationAtLeast } from '../../shared/index.ts';

/**
 * gateway.yaml `watchdog:` — the gateway phones the on-call chain when offhook itself goes blind
 * (telephony-gateway/README.md, Watchdog). Each silence of 0 turns that check off.
 */
export const WatchdogConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** No live collector has claimed some partition for this long. */
    collector_silence: Duration.default(60_000),
    /** This gateway has not reached NATS for this long. */
    nats_silence: Duration.default(60_000),
    /** No canary alert came through ALERTS for this long (about 3 × the collector's watchdog.canary_interval). */
    canary_silence: Duration.default(180_000),
    /** How often the conditions are looked at (and NATS is probed with a PING). */
    check_interval: DurationAtLeast(10, '10ms').default(1_000),
    /** How often the gateway heartbeat goes out for the collector's `gateway_silent`. */
    heartbeat_interval: DurationAtLeast(100, '100ms').default(10_000),
  })
  .strict();
export type WatchdogConfig = z.infer<typeof WatchdogConfig>;
export const DEFAULT_WATCHDOG: WatchdogConfig = WatchdogConfig.parse({});
