import type { Clock, Logger } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { CallScript, OutboundResult } from '../calls/call-script.ts';
import { afterAttempt, type AttemptResult } from '../calls/escalation.ts';
import type { CallQueue, PlannedCall, QueuedAlert } from '../calls/queue.ts';
import type { GatewayConfig } from '../config.ts';
import type { AckWatcher } from '../intake/ack-watcher.ts';
import type { AlertIntake } from '../intake/intake.ts';
import { UnannouncedSweep } from '../intake/unannounced.ts';
import type { StateStore } from '../state-store.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';
import type { CallRecords } from './call-records.ts';
import type { LineOwner, LineUser, Turn } from './line-owner.ts';

/** No dial tone on this many calls in a row: the line is reported down (the calls go on). */
const LINE_DOWN_AFTER = 3;

export interface OutboundCallParts {
  owner: LineOwner;
  config: GatewayConfig;
  queue: CallQueue;
  intake: AlertIntake;
  budget: Budget;
  callScript: CallScript;
  acks: Pick<AckWatcher, 'remember'>;
  publisher: GatewayPublisher;
  records: CallRecords;
  store: StateStore;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
}

/**
 * Calls about alerts: the queue's next planned call, within the budget, and what its outcome does to each alert's
 * escalation (acknowledged, next attempt, or given up to the collector's fallback receivers).
 */
export class OutboundCalls implements LineUser {
  private ready = false;
  private noDialToneStreak = 0;
  private readonly lineDownNotified = new Set<string>();
  /** Alerts of the call on the line now; when all of them end elsewhere the call is hung up. */
  private readonly inCallNow = new Set<string>();
  private cancelled = false;
  private readonly unannounced: UnannouncedSweep;

  constructor(private readonly parts: OutboundCallParts) {
    parts.intake.events.on('finished', (fingerprint: string) => this.onFinishedElsewhere(fingerprint));
    this.unannounced = new UnannouncedSweep({
      ...parts,
      lineUp: () => this.noDialToneStreak === 0,
      // Only while still queued: an escalation that ended meanwhile keeps its `done` record.
      persist: (entry) =>
        parts.queue.get(entry.alert.fingerprint) === entry ? parts.intake.persist(entry) : Promise.resolve(),
    });
    parts.intake.events.on('queued', () => this.unannounced.arm());
  }

  /** Calls start only once the consumer has caught up, so a backlog's resolve can cancel its firing first. */
  setReady(): void {
    this.ready = true;
    this.parts.owner.wake();
  }

  stop(): void {
    this.unannounced.stop();
  }

  async turn(): Promise<Turn> {
    if (!this.ready) return { sleepUntil: null };
    const now = this.parts.clock.now();
    const plan = this.parts.queue.plan(now);
    for (const { entry, result } of plan.finished) {
      if (result.reason === 'acknowledged') await this.parts.intake.finish(entry, 'acknowledged');
      else await this.giveUp([entry], result.reason, `escalation ended: ${result.reason.replace(/_/g, ' ')}`);
    }
    this.parts.metrics.queueDepth.set(this.parts.queue.size);
    this.unannounced.arm();
    if (plan.kind === 'idle') return { sleepUntil: plan.wakeAt };
    return { call: () => this.call(plan.call) };
  }

  /** Stops ringing someone about alerts a colleague (CLI, web, other phone) already took, or that resolved. */
  private onFinishedElsewhere(fingerprint: string): void {
    if (!this.inCallNow.delete(fingerprint) || this.inCallNow.size > 0 || this.cancelled) return;
    this.cancelled = true;
    this.parts.logger.info('every alert in the call ended elsewhere: hanging up');
    void this.parts.owner.hangUp();
  }

  private async call(call: PlannedCall): Promise<void> {
    const { config, budget, metrics, publisher, clock, records } = this.parts;
    const person = config.people[call.person]!;
    const entries = call.alerts;
    const alerts = entries.map((e) => e.alert);
    const log = this.parts.logger.child({
      person: person.name,
      fingerprint: alerts[0]!.fingerprint,
      host: alerts[0]!.host,
      rule: alerts[0]!.rule,
      alerts: alerts.length,
    });
    const decision = budget.check(person.number, clock.now());
    if (!decision.ok) {
      metrics.budgetExhausted.inc({ scope: decision.scope, limit: decision.limit });
      publisher.event('budget_exhausted', {
        limit: decision.limit,
        detail: `${person.name}: ${decision.detail}`,
        fingerprints: alerts.map((a) => a.fingerprint),
      });
      await records.record({
        person: person.name,
        number: person.number,
        alerts,
        attempt: 0,
        outcome: 'rejected_budget',
        digits: '',
        durationMs: 0,
        cost: 0,
        error: decision.detail,
      });
      log.warn(
        { scope: decision.scope, limit: decision.limit, detail: decision.detail },
        'call not placed: limit reached',
      );
      if (decision.scope === 'total') return this.giveUp(entries, 'budget_exhausted', decision.detail);
      for (const entry of entries) entry.heldBy = 'per_number_limit';
      return this.advance(entries, 'number_throttled', budget.numberAllowedAt(person.number, clock.now()));
    }
    for (const entry of entries) delete entry.heldBy;
    const placedAt = clock.now();
    budget.record({ at: placedAt, number: person.number, durationMs: 0, cost: 0 });
    await this.parts.store.saveBudget(budget.snapshot(placedAt));
    log.info({ number: person.number, round: entries[0]!.escalation.round }, 'calling');
    const inCall = new Set(alerts.map((a) => a.fingerprint));
    this.inCallNow.clear();
    for (const fingerprint of inCall) this.inCallNow.add(fingerprint);
    this.cancelled = false;
    const result = await this.parts.owner
      .offHook(() =>
        this.parts.callScript.run({
          number: person.number,
          alerts,
          gatherMore: () => {
            const more = this.parts.queue.dueFor(call.person, clock.now(), inCall);
            for (const entry of more) {
              entries.push(entry);
              this.inCallNow.add(entry.alert.fingerprint);
            }
            return more.map((e) => e.alert);
          },
          onOffHook: () => this.observeOffHook(entries, log),
          announcedBefore: new Set(entries.filter((e) => e.announced).map((e) => e.alert.fingerprint)),
          onAnswered: (named) => {
            const fingerprints = new Set(named.map((a) => a.fingerprint));
            for (const entry of entries) if (fingerprints.has(entry.alert.fingerprint)) entry.announced = true;
          },
        }),
      )
      .finally(() => this.inCallNow.clear());
    if (this.cancelled && result.outcome !== 'acknowledged')
      Object.assign(result, {
        outcome: 'cancelled',
        error: 'every alert in the call was acknowledged or resolved elsewhere',
      });
    if (this.parts.owner.stopping) {
      // Cut short by a shutdown: nothing to record or advance; the held message goes back for a repeat.
      log.warn({ outcome: result.outcome }, 'call cut short: gateway stopping');
      return;
    }
    const durationMs = Math.max(0, clock.now() - (result.offHookAt ?? placedAt));
    const cost = budget.finish(placedAt, person.number, durationMs);
    await this.parts.store.saveBudget(budget.snapshot(clock.now()));
    records.updateBudgetGauges();
    metrics.estimatedCost.inc(cost);
    log.info(
      { outcome: result.outcome, digits: result.digits, durationMs, announced: result.alerts.length },
      'call finished',
    );
    await records.record({
      person: person.name,
      number: person.number,
      alerts: result.alerts,
      attempt: entries[0]!.escalation.callsMade + 1,
      outcome: result.outcome,
      digits: result.digits,
      durationMs,
      cost,
      error: result.error,
    });
    await this.applyOutcome(entries, result, person.name);
  }

  private observeOffHook(entries: QueuedAlert[], log: Logger): void {
    log.info('off hook');
    this.parts.intake.events.emit(
      'offhook',
      entries.map((e) => e.alert.fingerprint),
    );
    const now = this.parts.clock.now();
    for (const entry of entries) {
      if (entry.offHookSeen) continue;
      entry.offHookSeen = true;
      this.parts.metrics.alertToOffHook.observe((now - entry.receivedAt) / 1000);
    }
  }

  private async applyOutcome(entries: QueuedAlert[], result: OutboundResult, personName: string): Promise<void> {
    const { publisher, acks, intake } = this.parts;
    if (result.outcome === 'acknowledged') {
      // In parallel: a storm call acknowledges hundreds of alerts, and the line waits for none of it.
      await Promise.all(
        entries.map(async (entry) => {
          const ack = await publisher.ack(entry.alert, { by: personName, method: 'dtmf' });
          acks.remember(ack);
          await intake.finish(entry, 'acknowledged');
        }),
      );
      return;
    }
    const lineFault = result.outcome === 'no_dial_tone' || result.outcome === 'failed';
    if (result.outcome === 'no_dial_tone') {
      this.noDialToneStreak++;
      this.parts.metrics.lineUp.set(0);
      if (this.noDialToneStreak >= LINE_DOWN_AFTER) await this.lineDown(entries);
    } else if (!lineFault) {
      this.noDialToneStreak = 0;
      this.lineDownNotified.clear();
      this.parts.metrics.lineUp.set(1);
    }
    const attempt: AttemptResult = result.outcome === 'passed' ? 'passed' : lineFault ? 'line_failure' : 'unanswered';
    await this.advance(entries, attempt);
  }

  private async advance(entries: QueuedAlert[], attempt: AttemptResult, retryAt?: number): Promise<void> {
    const { config, queue, intake, clock } = this.parts;
    for (const entry of entries) {
      if (queue.get(entry.alert.fingerprint) !== entry) continue; // resolved or acked during the call
      const next = afterAttempt(entry.escalation, attempt, config.people, config.escalation, clock.now(), retryAt);
      if (next.done) {
        if (next.reason === 'acknowledged') await intake.finish(entry, 'acknowledged');
        else await this.giveUp([entry], next.reason, `escalation ended: ${next.reason.replace(/_/g, ' ')}`);
        continue;
      }
      entry.escalation = next.state;
      await intake.persist(entry);
    }
  }

  /** Nobody could be phoned: the collector's fallback notifiers take over, then the escalation ends. */
  private async giveUp(
    entries: QueuedAlert[],
    reason: 'budget_exhausted' | 'nobody_answered' | 'quiet_hours',
    detail: string,
  ): Promise<void> {
    if (entries.length === 0) return;
    this.parts.metrics.fallbacks.inc({ reason }, entries.length);
    await this.parts.publisher.fallback(
      reason,
      entries.map((e) => e.alert),
      detail,
    );
    for (const entry of entries) await this.parts.intake.finish(entry, reason);
  }

  private async lineDown(entries: QueuedAlert[]): Promise<void> {
    const fresh = entries.filter((e) => !this.lineDownNotified.has(e.alert.fingerprint));
    if (fresh.length === 0) return;
    for (const entry of fresh) this.lineDownNotified.add(entry.alert.fingerprint);
    // They were told, with the reason: the max_unannounced sweep need not tell them again.
    for (const entry of fresh) entry.unannouncedFallback = true;
    const detail = `no dial tone on ${this.noDialToneStreak} calls in a row`;
    this.parts.publisher.event('line_down', { detail, fingerprints: fresh.map((e) => e.alert.fingerprint) });
    this.parts.metrics.fallbacks.inc({ reason: 'line_down' }, fresh.length);
    // Keep trying the line, but make sure someone hears about the alerts meanwhile.
    await this.parts.publisher.fallback(
      'line_down',
      fresh.map((e) => e.alert),
      detail,
    );
  }
}
