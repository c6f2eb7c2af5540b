import type { NatsConnection } from '@nats-io/transport-node';
import * as z from 'zod';
import {
  Duration,
  fingerprint,
  streamNames,
  type Clock,
  type GatewayEvent,
  type InboundValidator,
  type Logger,
  type Severity,
  type Subjects,
} from '../../shared/index.ts';
import { cloneRecord, firingRecord, type AlertRecord } from './alert-record.ts';
import { queueRepeat, reconcile, repeatDue } from './announce.ts';
import { consumeDurably, type DurableIntake } from '../intake/index.ts';
import type { AlertEngine, EngineOutput } from './engine.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * collector.yaml `gateway_alerts`: the telephony gateway's own trouble, told through the notifiers (never the phone).
 */
export const GatewayAlertsConfig = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * The gateway says when the line fails but not when it works again, so `gateway_line_down`
     * resolves after this long without a new line_down (each failed call attempt reports one).
     */
    line_down_quiet_period: Duration.default(15 * 60_000),
  })
  .strict();
export type GatewayAlertsConfig = z.infer<typeof GatewayAlertsConfig>;

/** One durable for every collector, like the fallback intake: each gateway event is turned into an alert once. */
export const GATEWAY_EVENTS_DURABLE = 'offhook-collector-gateway-events';
export const GATEWAY_RULES: Record<GatewayEvent['kind'], { rule: string; severity: Severity }> = {
  line_down: { rule: 'gateway_line_down', severity: 'critical' },
  budget_exhausted: { rule: 'gateway_budget_exhausted', severity: 'warning' },
};
const RULE_NAMES = new Set(Object.values(GATEWAY_RULES).map((r) => r.rule));

/** The budget's windows are rolling: a limit named per hour/day frees up at the latest that long after it was hit. */
function budgetWindowMs(limit: string, fallbackMs: number): number {
  if (/_per_hour$/.test(limit)) return HOUR;
  if (/_per_day$/.test(limit)) return DAY;
  return fallbackMs;
}

function summaryOf(event: GatewayEvent): string {
  const detail = event.detail ? ` (${event.detail})` : '';
  const held =
    event.fingerprints.length > 0
      ? `; ${event.fingerprints.length} alert${event.fingerprints.length === 1 ? '' : 's'} could not be phoned`
      : '';
  return event.kind === 'line_down'
    ? `${event.host}: the telephony gateway's phone line is down${detail}; no calls can be made${held}`
    : `${event.host}: the telephony gateway's call budget ${event.limit || '(unnamed limit)'} is used up` +
        `${detail}${held}`;
}

/**
 * Turns the gateway's GatewayEvents into collector alerts (ruleKind `external`). Their records live
 * with the engine's (KV, status page, acks, silences), but announce.ts keeps them off ALERTS: the
 * gateway would try to phone about its own broken line or spent budget. Resolution is by time
 * (see GatewayAlertsConfig and budgetWindowMs), evaluated on every tick, so it survives restarts.
 */
export class GatewayAlerts {
  constructor(
    private readonly deps: {
      engine: AlertEngine;
      output: EngineOutput;
      clock: Clock;
      logger: Logger;
      config: GatewayAlertsConfig;
      repeatMs: number;
    },
  ) {}

  static owns(record: AlertRecord): boolean {
    return record.alert.ruleKind === 'external' && RULE_NAMES.has(record.alert.rule);
  }

  handle(event: GatewayEvent): void {
    const { engine, clock, logger } = this.deps;
    const { rule, severity } = GATEWAY_RULES[event.kind];
    const labels: Record<string, string> = event.kind === 'budget_exhausted' ? { limit: event.limit || 'unknown' } : {};
    const fp = fingerprint(event.host, rule, labels);
    const now = clock.now();
    const log = logger.child({ host: event.host, rule, fingerprint: fp });
    if (event.ts + this.lastsMs(rule, labels) <= now) {
      log.info({ eventTs: event.ts }, 'gateway event is older than the alert it would raise: nothing to tell');
      return;
    }
    const previous = engine.records.get(fp);
    if (previous?.alert.status === 'firing') {
      if (event.ts <= previous.alert.ts) return;
      // Still down / still spent: the resolve time moves on; already told, so this is only persisted.
      Object.assign(previous.alert, { ts: event.ts, summary: summaryOf(event), value: event.fingerprints.length });
      this.commit(previous);
      return;
    }
    const record = firingRecord(
      {
        fingerprint: fp,
        host: event.host,
        rule,
        ruleKind: 'external',
        labels,
        severity,
        summary: summaryOf(event),
        value: event.fingerprints.length,
        startsAt: event.ts,
        inhibited: engine.hostDown(event.host),
      },
      previous,
      0,
      now,
    );
    const { generation } = record.alert;
    engine.records.set(fp, record);
    log.warn({ severity, generation, detail: event.detail, limit: event.limit }, 'gateway alert firing');
    reconcile(record, engine.mute, now);
    this.commit(record);
  }

  /** Resolves the gateway alerts whose quiet period or budget window is over; re-notifies the others like any alert. */
  tick(): void {
    const { engine, clock, logger } = this.deps;
    const now = clock.now();
    for (const record of engine.records.values()) {
      const alert = record.alert;
      if (alert.status !== 'firing' || !GatewayAlerts.owns(record)) continue;
      if (now < alert.ts + this.lastsMs(alert.rule, alert.labels)) {
        if (repeatDue(record, engine.mute, this.deps.repeatMs, now)) {
          queueRepeat(record, now);
          this.commit(record);
        }
        continue;
      }
      Object.assign(alert, { status: 'resolved', ts: now, endsAt: now, summary: this.resolvedSummary(record) });
      logger.info(
        { host: alert.host, rule: alert.rule, fingerprint: alert.fingerprint, generation: alert.generation },
        'gateway alert resolved',
      );
      reconcile(record, engine.mute, now);
      this.commit(record);
    }
  }

  private lastsMs(rule: string, labels: Record<string, string>): number {
    const quiet = this.deps.config.line_down_quiet_period;
    return rule === GATEWAY_RULES.budget_exhausted.rule ? budgetWindowMs(labels.limit ?? '', quiet) : quiet;
  }

  private resolvedSummary(record: AlertRecord): string {
    const { host, rule } = record.alert;
    const minutes = Math.round(this.deps.config.line_down_quiet_period / 60_000);
    return rule === GATEWAY_RULES.line_down.rule
      ? `${host}: no line failure reported by the telephony gateway for ${minutes} min; calls are assumed to work again`
      : `${host}: the call budget ${record.alert.labels.limit ?? ''} window has passed; calls can be placed again`;
  }

  private commit(record: AlertRecord): void {
    record.updatedAt = this.deps.clock.now();
    this.deps.output.commit(cloneRecord(record));
    record.outbox = [];
  }
}

/** Reads GatewayEvents from the GATEWAY stream through a durable shared by all collectors. */
export function consumeGatewayEvents(
  nc: NatsConnection,
  subjects: Subjects,
  validator: InboundValidator,
  logger: Logger,
  alerts: GatewayAlerts,
  /**
   * Resolves once what handle() committed is in KV and handed to the notifiers; only then is the event acknowledged.
   */
  settled: () => Promise<void>,
): Promise<DurableIntake> {
  return consumeDurably(nc, {
    stream: streamNames(subjects).gateway,
    durable: GATEWAY_EVENTS_DURABLE,
    filterSubject: subjects.allGatewayEvents,
    ackWaitMs: 60_000,
    async handle(msg) {
      const decoded = validator.accept(msg.subject, msg.data);
      if (decoded?.type !== 'gateway') return 'term';
      alerts.handle(decoded.message);
      await settled();
      return 'ack';
    },
    onRetry: (err, msg) =>
      logger.error({ err, subject: msg.subject }, 'handling a gateway event failed; it will be redelivered'),
  });
}
