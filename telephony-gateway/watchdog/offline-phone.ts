import type { Alert, Clock, ClockTimer, Logger } from '../../shared/index.ts';
import { Budget } from '../calls/budget.ts';
import { CallScript, callSettingsFrom } from '../calls/call-script.ts';
import type { GatewayConfig } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import { afterAttempt, initialEscalation, resolveTarget, type EscalationState } from '../calls/escalation.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { Speech } from '../calls/speech.ts';
import { blindAlert } from './blind-alert.ts';
import { LocalStateFile, localStatePath } from './local-file.ts';
import { blindSummary } from './wording.ts';

export interface OfflinePhoneParts {
  config: GatewayConfig;
  gatewayHost: string;
  prefix: string;
  driver: LineDriver;
  speech: Speech;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
}

/**
 * Connects to NATS, and if that takes longer than watchdog.nats_silence (a gateway started, or restarted, while NATS
 * is down), phones the on-call chain meanwhile. Only config and local files are used: people, escalation and the
 * budget in the local state file. Once NATS answers, a call in progress is let finish, then the gateway starts as
 * usual (its store merges the budget file, so the calls made here count).
 */
export async function connectOrPhone<T>(connect: () => Promise<T>, parts: OfflinePhoneParts): Promise<T> {
  const { enabled, nats_silence } = parts.config.watchdog;
  if (!enabled || nats_silence <= 0) return connect();
  const phone = new OfflinePhone(parts);
  phone.start();
  try {
    return await connect();
  } finally {
    await phone.stop();
  }
}

type Ending = 'acknowledged' | 'nobody_answered' | 'quiet_hours' | 'budget_exhausted';

/** The watchdog's call loop for a gateway that has never reached NATS: one incident, the usual escalation. */
class OfflinePhone {
  private readonly budget: Budget;
  private readonly local: LocalStateFile;
  private readonly callScript: CallScript;
  private readonly logger: Logger;
  private readonly startedAt: number;
  private incident: { alert: Alert; escalation: EscalationState; ended: Ending | null } | null = null;
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly parts: OfflinePhoneParts) {
    const { config, clock } = parts;
    this.logger = parts.logger.child({ component: 'watchdog' });
    this.startedAt = clock.now();
    this.local = new LocalStateFile(localStatePath(config.state_dir, parts.prefix), null, parts.logger);
    this.budget = new Budget(config.budget);
    this.budget.load(this.local.budget);
    this.callScript = new CallScript(parts.driver, parts.speech, callSettingsFrom(config), () => clock.now());
  }

  start(): void {
    this.loop = this.run().catch((err: Error) => this.logger.error({ err }, 'offline watchdog failed'));
  }

  /** Lets a call in progress finish (the person may be listening), then returns the line to the gateway. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    if (!this.incident) return;
    this.logger.info({ ended: this.incident.ended }, 'NATS reached: the offline watchdog hands over');
  }

  private async run(): Promise<void> {
    const { config, clock } = this.parts;
    const silence = config.watchdog.nats_silence;
    while (!this.stopped) {
      const now = clock.now();
      if (!this.incident) {
        if (now - this.startedAt <= silence) {
          await this.sleep(this.startedAt + silence + 1);
          continue;
        }
        this.raise(now);
      }
      const incident = this.incident!;
      if (incident.ended) {
        await this.sleep(null);
        continue;
      }
      incident.alert = { ...incident.alert, summary: blindSummary([{ kind: 'nats', since: this.startedAt }], now) };
      const target = resolveTarget(incident.escalation, 'critical', config.people, config.escalation, now);
      if ('done' in target) {
        this.end(target.reason);
        continue;
      }
      incident.escalation = target.state;
      if (target.kind === 'wait') await this.sleep(target.state.nextAt);
      else await this.call(target.person);
    }
  }

  private raise(now: number): void {
    const { config, gatewayHost } = this.parts;
    const generation = this.local.nextGeneration();
    const summary = blindSummary([{ kind: 'nats', since: this.startedAt }], now);
    this.incident = {
      alert: blindAlert(gatewayHost, generation, this.startedAt, summary, now),
      escalation: initialEscalation(now, config.escalation),
      ended: null,
    };
    this.logger.error({ generation, summary }, 'offhook is blind: no NATS since start; calling the on-call chain');
  }

  private end(reason: Ending): void {
    this.incident!.ended = reason;
    const log = { reason, generation: this.incident!.alert.generation };
    if (reason === 'acknowledged') this.logger.warn(log, 'offline watchdog incident acknowledged: no more calls');
    else this.logger.error(log, 'offline watchdog escalation ended unacknowledged: no more calls');
  }

  private async call(personIndex: number): Promise<void> {
    const { config, clock, metrics } = this.parts;
    const incident = this.incident!;
    const person = config.people[personIndex]!;
    const decision = this.budget.check(person.number, clock.now());
    if (!decision.ok) {
      metrics.budgetExhausted.inc({ scope: decision.scope, limit: decision.limit });
      const why = { person: person.name, limit: decision.limit, detail: decision.detail };
      this.logger.warn(why, 'offline watchdog call not placed');
      if (decision.scope === 'total') return this.end('budget_exhausted');
      return this.advance('number_throttled');
    }
    const placedAt = clock.now();
    this.budget.record({ at: placedAt, number: person.number, durationMs: 0, cost: 0 });
    this.local.budget = this.budget.snapshot(placedAt);
    this.logger.info({ person: person.name, number: person.number }, 'offline watchdog calling');
    const result = await this.callScript.run({ number: person.number, alerts: [incident.alert] });
    const durationMs = Math.max(0, clock.now() - (result.offHookAt ?? placedAt));
    metrics.estimatedCost.inc(this.budget.finish(placedAt, person.number, durationMs));
    this.local.budget = this.budget.snapshot(clock.now());
    metrics.calls.inc({ direction: 'outbound', outcome: result.outcome });
    // No call record: nothing can be published without NATS; the log keeps what happened.
    const how = { person: person.name, outcome: result.outcome, digits: result.digits, durationMs };
    this.logger.info(how, 'offline watchdog call finished');
    if (result.outcome === 'acknowledged') return this.end('acknowledged');
    const lineFault = result.outcome === 'no_dial_tone' || result.outcome === 'failed';
    this.advance(result.outcome === 'passed' ? 'passed' : lineFault ? 'line_failure' : 'unanswered');
  }

  private advance(attempt: Parameters<typeof afterAttempt>[1]): void {
    const { config, clock } = this.parts;
    const next = afterAttempt(this.incident!.escalation, attempt, config.people, config.escalation, clock.now());
    if (next.done) this.end(next.reason);
    else this.incident!.escalation = next.state;
  }

  private sleep(until: number | null): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const { clock } = this.parts;
    return new Promise((resolve) => {
      let timer: ClockTimer | null = null;
      this.wakeUp = () => {
        this.wakeUp = null;
        if (timer) clock.clearTimeout(timer);
        resolve();
      };
      if (until !== null) timer = clock.setTimeout(() => this.wakeUp?.(), Math.max(0, until - clock.now()));
    });
  }
}
