import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CANARY_RULE,
  CollectorHeartbeat,
  encodeMessage,
  fingerprint,
  newId,
  OFFHOOK_VERSION,
  publishDurable,
  SCHEMA_VERSION,
  WATCHDOG_LABEL,
  type Alert,
  type Clock,
  type ClockTimer,
  type Logger,
  type PartitionClaim,
  type Subjects,
} from '../../shared/index.ts';
import type { CollectorWatchdogConfig } from './config.ts';

export interface BeaconMetrics {
  heartbeats: { inc(): void };
  canaries: { inc(labels: { outcome: string }): void };
}

/** The canary as it goes out on ALERTS: never phoned (gateway), never notified (dispatcher), never stored in KV. */
export function canaryAlert(member: string, now: number): Alert {
  const labels = { [WATCHDOG_LABEL]: 'canary' };
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host: member,
    ts: now,
    fingerprint: fingerprint(member, CANARY_RULE, labels),
    status: 'firing',
    severity: 'info',
    rule: CANARY_RULE,
    ruleKind: 'watchdog',
    labels,
    summary: `${member}: offhook watchdog canary, proves the alert path to the gateway works; never phoned or notified`,
    value: null,
    startsAt: now,
    endsAt: 0,
    generation: 1,
    inhibited: false,
    acknowledged: false,
  };
}

/**
 * The collector's two signs of life for the gateway's watchdog: a heartbeat on core NATS (member, version, the
 * partitions it owns) and, on its own period, the canary alert published on ALERTS exactly like a rule's alert.
 */
export class CollectorBeacon {
  private heartbeatTimer: ClockTimer | undefined;
  private canaryTimer: ClockTimer | undefined;
  private stopped = false;
  private readonly startedAt: number;

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      js: JetStreamClient;
      subjects: Subjects;
      member: string;
      host: string;
      config: CollectorWatchdogConfig;
      partitions: () => PartitionClaim;
      clock: Clock;
      logger: Logger;
      metrics: BeaconMetrics;
    },
  ) {
    this.startedAt = deps.clock.now();
  }

  start(): void {
    this.heartbeat();
    // The first canary after one period, like every later one: the gateway allows canary_silence from its own start.
    const period = this.deps.config.canary_interval;
    if (period > 0) this.canaryTimer = this.deps.clock.setTimeout(() => void this.canary(), period);
  }

  stop(): void {
    this.stopped = true;
    if (this.heartbeatTimer) this.deps.clock.clearTimeout(this.heartbeatTimer);
    if (this.canaryTimer) this.deps.clock.clearTimeout(this.canaryTimer);
  }

  private heartbeat(): void {
    if (this.stopped) return;
    const { nc, subjects, member, host, config, clock, logger } = this.deps;
    const now = clock.now();
    const beat = CollectorHeartbeat.parse({
      v: SCHEMA_VERSION,
      id: newId(),
      host,
      ts: now,
      kind: 'collector_heartbeat',
      member,
      collectorVersion: OFFHOOK_VERSION,
      uptimeSec: (now - this.startedAt) / 1000,
      intervalMs: config.heartbeat_interval,
      partitions: this.deps.partitions(),
    });
    try {
      // Core NATS: buffered by the client while disconnected, so nothing here waits on an outage.
      nc.publish(subjects.collectorHeartbeat(member), encodeMessage(beat));
      this.deps.metrics.heartbeats.inc();
    } catch (err) {
      // Only a closed connection throws here; the collector is stopping or has lost NATS for good.
      logger.warn({ err }, 'cannot publish the collector heartbeat');
    }
    this.heartbeatTimer = clock.setTimeout(() => this.heartbeat(), config.heartbeat_interval);
  }

  private async canary(): Promise<void> {
    if (this.stopped) return;
    const { js, subjects, member, config, clock, logger, metrics } = this.deps;
    const alert = canaryAlert(member, clock.now());
    try {
      await publishDurable(js, subjects.alert(alert.severity, member), alert);
      metrics.canaries.inc({ outcome: 'ok' });
    } catch (err) {
      // The next period sends a fresh one; a missing canary is exactly what the gateway is there to notice.
      metrics.canaries.inc({ outcome: 'failed' });
      logger.warn({ err }, 'cannot publish the watchdog canary to ALERTS');
    }
    if (!this.stopped) this.canaryTimer = clock.setTimeout(() => void this.canary(), config.canary_interval);
  }
}
