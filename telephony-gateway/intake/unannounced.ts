import type { Clock, ClockTimer, FallbackReason, Logger } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { GatewayConfig } from '../config.ts';
import { resolveTarget } from '../calls/escalation.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';
import type { CallQueue, QueuedAlert } from '../calls/queue.ts';
import { mayCall } from '../calls/schedule.ts';

export interface UnannouncedParts {
  config: GatewayConfig;
  queue: CallQueue;
  budget: Budget;
  publisher: GatewayPublisher;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
  /** False after calls found no dial tone. */
  lineUp(): boolean;
  /** Writes the entry's escalation record (with its `unannouncedFallback` mark) to KV. */
  persist(entry: QueuedAlert): Promise<void>;
}

/**
 * No alert waits unseen: an alert in the queue that nobody has heard named for `max_unannounced` since it arrived
 * goes to the collector's fallback receivers, with the reason it is held, once per alert generation. The
 * escalation itself goes on (the next call still comes as soon as it may). Runs on its own timer, so a long call
 * on the line does not delay it.
 */
export class UnannouncedSweep {
  private timer: ClockTimer | null = null;
  private timerAt = Infinity;
  private stopped = false;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(private readonly parts: UnannouncedParts) {}

  private waiting(): QueuedAlert[] {
    return this.parts.queue.all().filter((e) => !e.announced && !e.unannouncedFallback);
  }

  /** (Re)schedules the sweep for the earliest deadline; cheap, called whenever the queue may have changed. */
  arm(): void {
    if (this.stopped) return;
    const limit = this.parts.config.max_unannounced;
    const next = Math.min(...this.waiting().map((e) => e.receivedAt + limit));
    if (next === this.timerAt) return;
    if (this.timer) this.parts.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (!Number.isFinite(next)) return;
    this.timer = this.parts.clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Infinity;
        this.sweeping = this.sweeping
          .then(() => this.sweep())
          .catch((err: Error) => this.parts.logger.error({ err }, 'unannounced sweep failed'));
      },
      Math.max(0, next - this.parts.clock.now()),
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.parts.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** Why this alert has not been named to anyone yet. */
  reason(entry: QueuedAlert, now: number): FallbackReason {
    const { config, budget } = this.parts;
    if (!this.parts.lineUp()) return 'line_down';
    if (entry.heldBy) return entry.heldBy;
    const target = resolveTarget(entry.escalation, entry.alert.severity, config.people, config.escalation, now);
    if ('done' in target) return target.reason === 'quiet_hours' ? 'quiet_hours' : 'escalation_wait';
    if (target.kind === 'wait') {
      const person = config.people[target.state.person];
      const eligible = person ? mayCall(person, entry.alert.severity, now) : null;
      return eligible && !eligible.ok && eligible.reason === 'quiet_hours' ? 'quiet_hours' : 'escalation_wait';
    }
    const decision = budget.check(config.people[target.person]!.number, now);
    if (!decision.ok) return decision.scope === 'total' ? 'budget_exhausted' : 'per_number_limit';
    return 'line_busy';
  }

  async sweep(): Promise<void> {
    const { config, metrics, publisher, logger, clock } = this.parts;
    const now = clock.now();
    const due = this.waiting().filter((e) => now - e.receivedAt >= config.max_unannounced);
    const byReason = new Map<FallbackReason, QueuedAlert[]>();
    for (const entry of due) {
      const reason = this.reason(entry, now);
      byReason.set(reason, [...(byReason.get(reason) ?? []), entry]);
    }
    for (const [reason, entries] of byReason) {
      for (const entry of entries) entry.unannouncedFallback = true;
      metrics.unannounced.inc({ reason }, entries.length);
      metrics.fallbacks.inc({ reason }, entries.length);
      const seconds = Math.round(config.max_unannounced / 1000);
      const held = reason.replace(/_/g, ' ');
      const detail = `not named to anyone for ${seconds} s (max_unannounced): ${held}; calls go on`;
      const fingerprints = entries.slice(0, 20).map((e) => e.alert.fingerprint);
      const count = entries.length;
      logger.warn({ reason, count, fingerprints }, 'alerts unannounced too long: sent to the fallback receivers');
      await publisher.fallback(
        reason,
        entries.map((e) => e.alert),
        detail,
      );
      await Promise.all(entries.map((entry) => this.parts.persist(entry)));
    }
    this.arm();
  }
}
