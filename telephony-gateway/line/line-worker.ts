import {
  fingerprint as makeFingerprint,
  newId,
  type Alert,
  type Clock,
  type ClockTimer,
  type Logger,
} from '../../shared/index.ts';
import type { AckWatcher } from '../intake/ack-watcher.ts';
import type { Budget } from '../calls/budget.ts';
import type { CallScript, OutboundResult } from '../calls/call-script.ts';
import type { GatewayConfig } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import { afterAttempt, type AttemptResult } from '../calls/escalation.ts';
import type { InboundScript } from '../inbound/inbound.ts';
import type { AlertIntake } from '../intake/intake.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';
import type { CallQueue, PlannedCall, QueuedAlert } from '../calls/queue.ts';
import type { StateStore } from '../state-store.ts';
import { reportPinState } from '../inbound/pin-guard.ts';
import { UnannouncedSweep } from '../intake/unannounced.ts';
import { TEST_CALL_TEXT } from '../calls/wording.ts';

const LINE_DOWN_AFTER = 3;

export interface LineWorkerParts {
  config: GatewayConfig;
  gatewayHost: string;
  driver: LineDriver;
  queue: CallQueue;
  intake: AlertIntake;
  budget: Budget;
  callScript: CallScript;
  inbound: InboundScript;
  acks: Pick<AckWatcher, 'remember'>;
  publisher: GatewayPublisher;
  store: StateStore;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
}

export interface TestCallResult {
  outcome: string;
  digits: string;
  durationMs: number;
  detail?: string;
}

/**
 * The only code that touches the line. One loop, one call at a time by construction: it takes an
 * inbound ring, a requested test call or the next planned alert call, runs it to the end (on hook),
 * then looks again. Everything else only changes the queue and wakes it.
 */
export class LineWorker {
  private stopped = false;
  private ready = false;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private ringPending = false;
  private readonly testCalls: Array<{ number: string; done: (result: TestCallResult) => void }> = [];
  private noDialToneStreak = 0;
  private readonly lineDownNotified = new Set<string>();
  private loop: Promise<void> | null = null;
  private lineBusy = false;
  /** Alerts of the outbound call on the line now; when all of them end elsewhere the call is hung up. */
  private readonly inCallNow = new Set<string>();
  private cancelled = false;
  private readonly inboundFingerprint: string;
  private readonly unannounced: UnannouncedSweep;

  /** True while the line is off hook for a call (outbound, inbound or test). */
  get busy(): boolean {
    return this.lineBusy;
  }

  constructor(private readonly parts: LineWorkerParts) {
    this.inboundFingerprint = makeFingerprint(parts.gatewayHost, 'inbound-call');
    parts.intake.events.on('finished', (fingerprint: string) => this.onFinishedElsewhere(fingerprint));
    this.unannounced = new UnannouncedSweep({
      ...parts,
      lineUp: () => this.noDialToneStreak === 0,
      // Only while still queued: an escalation that ended meanwhile keeps its `done` record.
      persist: (entry) =>
        parts.queue.get(entry.alert.fingerprint) === entry ? parts.intake.persist(entry) : Promise.resolve(),
    });
    parts.intake.events.on('queued', () => this.unannounced.arm());
    parts.driver.onRing(() => {
      if (!parts.config.inbound.enabled) return;
      this.ringPending = true;
      this.wake();
    });
  }

  /** Calls start only once the consumer has caught up, so a backlog's resolve can cancel its firing first. */
  setReady(): void {
    this.ready = true;
    this.wake();
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    // Nobody asleep: the loop is mid-step, so make its next sleep return at once and look again.
    if (wake) wake();
    else this.wakePending = true;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops after the current step; a call in progress is hung up rather than finished (its alert is redelivered). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unannounced.stop();
    this.wake();
    if (this.lineBusy) await this.parts.driver.hangUp();
    await this.loop;
  }

  /** Stops ringing someone about alerts a colleague (CLI, web, other phone) already took, or that resolved. */
  private onFinishedElsewhere(fingerprint: string): void {
    if (!this.lineBusy || !this.inCallNow.delete(fingerprint) || this.inCallNow.size > 0 || this.cancelled) return;
    this.cancelled = true;
    this.parts.logger.info('every alert in the call ended elsewhere: hanging up');
    void this.parts.driver.hangUp();
  }

  testCall(number: string): Promise<TestCallResult> {
    return new Promise((done) => {
      this.testCalls.push({ number, done });
      this.wake();
    });
  }

  private async run(): Promise<void> {
    const { logger } = this.parts;
    while (!this.stopped) {
      try {
        await this.step();
      } catch (err) {
        // The loop must outlive any single failure: the next alert still needs the line.
        logger.error({ err }, 'line worker step failed');
        await this.parts.driver.hangUp();
        await this.sleep(this.parts.clock.now() + 1000);
      }
    }
  }

  private async step(): Promise<void> {
    if (this.ringPending) {
      this.ringPending = false;
      return this.answer();
    }
    const test = this.testCalls.shift();
    if (test) return test.done(await this.placeTestCall(test.number));
    if (!this.ready) return this.sleep(null);
    const now = this.parts.clock.now();
    const plan = this.parts.queue.plan(now);
    for (const { entry, result } of plan.finished) {
      if (result.reason === 'acknowledged') await this.parts.intake.finish(entry, 'acknowledged');
      else await this.giveUp([entry], result.reason, `escalation ended: ${result.reason.replace(/_/g, ' ')}`);
    }
    this.parts.metrics.queueDepth.set(this.parts.queue.size);
    this.unannounced.arm();
    if (plan.kind === 'idle') return this.sleep(plan.wakeAt);
    await this.call(plan.call);
  }

  private sleep(until: number | null): Promise<void> {
    if (this.wakePending || this.stopped) {
      this.wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ClockTimer | null = null;
      this.wakeUp = () => {
        if (timer) this.parts.clock.clearTimeout(timer);
        resolve();
      };
      if (until !== null)
        timer = this.parts.clock.setTimeout(() => this.wake(), Math.max(0, until - this.parts.clock.now()));
    });
  }

  private async call(call: PlannedCall): Promise<void> {
    const { config, budget, metrics, publisher, clock } = this.parts;
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
      await this.record({
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
    this.lineBusy = true;
    const result = await this.parts.callScript
      .run({
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
      })
      .finally(() => {
        this.lineBusy = false;
        this.inCallNow.clear();
      });
    if (this.cancelled && result.outcome !== 'acknowledged')
      Object.assign(result, {
        outcome: 'cancelled',
        error: 'every alert in the call was acknowledged or resolved elsewhere',
      });
    if (this.stopped) {
      // Cut short by a shutdown: nothing to record or advance; the held message goes back for a repeat.
      log.warn({ outcome: result.outcome }, 'call cut short: gateway stopping');
      return;
    }
    const durationMs = Math.max(0, clock.now() - (result.offHookAt ?? placedAt));
    const cost = budget.finish(placedAt, person.number, durationMs);
    await this.parts.store.saveBudget(budget.snapshot(clock.now()));
    this.updateBudgetGauges();
    metrics.estimatedCost.inc(cost);
    log.info(
      { outcome: result.outcome, digits: result.digits, durationMs, announced: result.alerts.length },
      'call finished',
    );
    await this.record({
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

  private async answer(): Promise<void> {
    const { inbound, intake, publisher, acks, metrics, clock, logger } = this.parts;
    const startedAt = clock.now();
    const result = await inbound.handle({
      firingAlerts: () => intake.firingAlerts(),
      acknowledge: async (alert, person, voiceNote) => {
        const ack = await publisher.ack(alert, {
          by: person.name,
          method: 'inbound_call',
          ...(voiceNote ? { voiceNote } : {}),
        });
        acks.remember(ack);
        const entry = this.parts.queue.get(alert.fingerprint);
        if (entry) await intake.finish(entry, 'acknowledged');
        intake.firing.delete(alert.fingerprint);
      },
    });
    // The rings that led to this call have been answered; only a ring after it is a new caller.
    this.ringPending = false;
    const durationMs = clock.now() - startedAt;
    if (result.wrongPins > 0) metrics.pinFailures.inc(result.wrongPins);
    if (result.pinAttempts > 0) metrics.pinAttempts.inc(result.pinAttempts);
    if (result.lockoutStarted) metrics.lockouts.inc();
    if (result.error && !result.person)
      metrics.rejectedCallers.inc({ reason: result.callerId ? 'unknown' : 'withheld' });
    else if (result.refused === 'global') metrics.rejectedCallers.inc({ reason: 'pin_attempts_cap' });
    else if (result.lockedOut && !result.lockoutStarted) metrics.rejectedCallers.inc({ reason: 'locked_out' });
    // Every PIN try was persisted as it happened; this catches only the clean-up of expired entries.
    await this.parts.store.saveLockouts(inbound.lockoutSnapshot());
    this.updatePinGauges();
    logger.info(
      {
        callerId: result.callerId,
        person: result.person,
        outcome: result.outcome,
        acked: result.acked.length,
        error: result.error,
      },
      'inbound call finished',
    );
    const fingerprints = result.acked.length > 0 ? result.acked : [];
    await this.record(
      {
        person: result.person ?? undefined,
        number: result.callerId ?? 'withheld',
        alerts: [],
        fingerprints,
        attempt: 0,
        outcome: result.outcome,
        digits: result.digits.slice(0, 64),
        durationMs,
        cost: 0,
        error: result.error,
      },
      'inbound',
    );
  }

  private async placeTestCall(number: string): Promise<TestCallResult> {
    const { budget, clock, store } = this.parts;
    const decision = budget.check(number, clock.now());
    if (!decision.ok) return { outcome: 'rejected_budget', digits: '', durationMs: 0, detail: decision.detail };
    const placedAt = clock.now();
    budget.record({ at: placedAt, number, durationMs: 0, cost: 0 });
    const result = await this.parts.callScript.run({ number, alerts: [], messageText: TEST_CALL_TEXT });
    const durationMs = Math.max(0, clock.now() - (result.offHookAt ?? placedAt));
    const cost = budget.finish(placedAt, number, durationMs);
    this.parts.metrics.estimatedCost.inc(cost);
    await store.saveBudget(budget.snapshot(clock.now()));
    this.updateBudgetGauges();
    await this.record({
      person: 'test call',
      number,
      alerts: [],
      attempt: 1,
      outcome: result.outcome,
      digits: result.digits,
      durationMs,
      cost,
      error: result.error,
    });
    this.parts.logger.info({ number, outcome: result.outcome, digits: result.digits }, 'test call finished');
    return {
      outcome: result.outcome,
      digits: result.digits,
      durationMs,
      ...(result.error ? { detail: result.error } : {}),
    };
  }

  private async record(
    call: {
      person?: string;
      number: string;
      alerts: Alert[];
      fingerprints?: string[];
      attempt: number;
      outcome: OutboundResult['outcome'];
      digits: string;
      durationMs: number;
      cost: number;
      error?: string;
    },
    direction: 'outbound' | 'inbound' = 'outbound',
  ): Promise<void> {
    const { metrics, publisher } = this.parts;
    metrics.calls.inc({ direction, outcome: call.outcome });
    metrics.callSeconds.inc({ direction }, call.durationMs / 1000);
    metrics.callDuration.observe({ direction }, call.durationMs / 1000);
    const fingerprints = call.fingerprints ?? call.alerts.map((a) => a.fingerprint);
    await publisher.callRecord(
      {
        callId: newId(),
        direction,
        fingerprints: fingerprints.slice(0, 1000),
        ...(call.person ? { person: call.person } : {}),
        number: call.number.slice(0, 64),
        attempt: call.attempt,
        outcome: call.outcome,
        digits: call.digits.slice(0, 64),
        durationMs: Math.round(call.durationMs),
        estimatedCost: call.cost,
        currency: this.parts.budget.currency,
        ...(call.error ? { error: call.error.slice(0, 1000) } : {}),
      },
      fingerprints[0] ?? this.inboundFingerprint,
    );
  }

  updatePinGauges(): void {
    reportPinState(this.parts.metrics, this.parts.inbound.lockoutSnapshot(), this.parts.clock.now());
  }

  updateBudgetGauges(): void {
    this.parts.metrics.setBudgetRemaining(this.parts.budget.remaining(this.parts.clock.now()));
  }
}
