import { hostname } from 'node:os';
import * as z from 'zod';
import { Duration, DurationAtLeast, HostToken, hostToken } from '../../shared/index.ts';

/** collector.yaml `watchdog:` — the collector's side of offhook watching itself (README, Watchdog). */
export const CollectorWatchdogConfig = z
  .object({
    /** This collector's member id in its heartbeat (a host token); the host name when absent. */
    member: HostToken.optional(),
    /** How often the collector heartbeat goes out on core NATS. */
    heartbeat_interval: DurationAtLeast(100, '100ms').default(10_000),
    /** How often the end-to-end canary goes out on ALERTS (0 = never; then set the gateway's canary_silence: 0). */
    canary_interval: Duration.default(60_000),
    /** A gateway heard before (or listed in `gateways`) that is silent this long raises `gateway_silent` (0 = off). */
    gateway_silence: Duration.default(60_000),
    /** Gateway hosts expected even before their first heartbeat (a gateway already dead when the collector starts). */
    gateways: z.array(HostToken).max(100).default([]),
  })
  .strict();
export type CollectorWatchdogConfig = z.infer<typeof CollectorWatchdogConfig>;

export const DEFAULT_COLLECTOR_WATCHDOG: CollectorWatchdogConfig = CollectorWatchdogConfig.parse({});

/** `name` as a host token, or `fallback` when it cannot be one (a host name with characters a token refuses). */
export function tokenOrFallback(name: string, fallback: string): string {
  try {
    return hostToken(name);
  } catch {
    return fallback; // the host name only labels the heartbeat; a collector must not refuse to start over it
  }
}

/** The member id: the configured one, or this machine's host name as a token. */
export function memberId(config: CollectorWatchdogConfig): string {
  return config.member ?? tokenOrFallback(hostname(), 'collector');
}
