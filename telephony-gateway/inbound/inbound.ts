import { join } from 'node:path';
import type { Alert, CallOutcome } from '../../shared/index.ts';
import type { GatewayConfig, Person } from '../config.ts';
import type { LineDriver } from '../drivers/driver.ts';
import { PinGuard, type LockoutState, type Refusal } from './pin-guard.ts';
import type { Speech } from '../calls/speech.ts';
import {
  GOODBYE_TEXT,
  INBOUND_MENU_TEXT,
  NO_ALERTS_TEXT,
  PIN_TEXT,
  VOICE_NOTE_TEXT,
  WRONG_PIN_TEXT,
  describeAlert,
  inboundIntro,
} from '../calls/wording.ts';

export { LockoutState } from './pin-guard.ts';

/** What a PIN try adds to the call's `digits`: never the keys themselves (the record is published). */
export const MASKED_PIN = 'x#';

export interface InboundResult {
  callerId: string | null;
  person: string | null;
  outcome: CallOutcome;
  digits: string;
  acked: string[];
  error?: string;
  /** Refused because locked out, or locked out by this call's wrong PINs. */
  lockedOut: boolean;
  /** This call's wrong PINs put the caller in lockout. */
  lockoutStarted: boolean;
  /** Why the caller was refused before any PIN: a caller-ID or person lockout, or the hourly PIN cap. */
  refused?: Refusal['scope'];
  /** PIN attempts made during this call (right or wrong). */
  pinAttempts: number;
  /** Wrong PINs entered during this call. */
  wrongPins: number;
}

export interface InboundHooks {
  /** Firing, unacknowledged alerts, worst first, at the moment the caller is through. */
  firingAlerts(): Alert[];
  acknowledge(alert: Alert, person: Person, voiceNote: string | undefined): Promise<void>;
}

/** Digits only, so "+61 2 9999-0000" from caller ID matches "+61299990000" in the config. */
export function normaliseNumber(number: string): string {
  return number.replace(/[^0-9]/g, '');
}

const SUBSCRIBER_DIGITS = 9;

/**
 * Whether a caller ID is this configured number. Exchanges send national or international form
 * ("0412 345 678" vs "+61412345678"), so the last nine digits decide when both are that long.
 */
export function sameNumber(configured: string, callerId: string): boolean {
  const a = normaliseNumber(configured);
  const b = normaliseNumber(callerId);
  if (a.length === 0 || b.length === 0) return false;
  if (a === b) return true;
  return (
    a.length >= SUBSCRIBER_DIGITS &&
    b.length >= SUBSCRIBER_DIGITS &&
    a.slice(-SUBSCRIBER_DIGITS) === b.slice(-SUBSCRIBER_DIGITS)
  );
}

/**
 * Answers a ringing line: unknown or withheld callers are hung up on without a word; known callers
 * give their PIN (too many wrong tries lock the number out for a while), then hear each firing alert
 * and press 1 to acknowledge it, optionally leaving a voice note.
 */
export class InboundScript {
  readonly guard: PinGuard;

  constructor(
    private readonly driver: LineDriver,
    private readonly speech: Speech,
    private readonly people: readonly Person[],
    private readonly config: GatewayConfig['inbound'],
    private readonly settings: {
      digitTimeoutMs: number;
      voiceNoteDir: string;
      /** Awaited after every PIN attempt, before the caller hears the answer: a crash mid-PIN loses no strike. */
      persist?: (state: LockoutState) => Promise<void>;
    },
    private readonly now: () => number,
  ) {
    this.guard = new PinGuard(
      {
        maxPinTries: config.max_pin_tries,
        personTries: 2 * config.max_pin_tries,
        lockoutMs: config.lockout,
        maxAttemptsPerHour: config.max_pin_attempts_per_hour,
      },
      now,
    );
  }

  loadLockouts(state: LockoutState | null): void {
    this.guard.load(state);
  }

  lockoutSnapshot(): LockoutState {
    return this.guard.snapshot();
  }

  private async persist(): Promise<void> {
    await this.settings.persist?.(this.guard.snapshot());
  }

  personFor(callerId: string | null): Person | null {
    if (!callerId) return null;
    return this.people.find((p) => sameNumber(p.number, callerId)) ?? null;
  }

  async handle(hooks: InboundHooks): Promise<InboundResult> {
    const { callerId } = await this.driver.answerInbound();
    const person = this.personFor(callerId);
    const result: InboundResult = {
      callerId,
      person: person?.name ?? null,
      outcome: 'answered',
      digits: '',
      acked: [],
      lockedOut: false,
      lockoutStarted: false,
      wrongPins: 0,
      pinAttempts: 0,
    };
    try {
      if (!person?.pin || !callerId) {
        return { ...result, outcome: 'failed', error: callerId ? 'unknown caller' : 'caller ID withheld' };
      }
      const callerKey = normaliseNumber(callerId);
      const refused = this.guard.refusal(callerKey, person.name);
      if (refused) return { ...result, ...this.refusedResult(refused) };
      const pinOk = await this.checkPin(person, callerKey, result);
      if (!pinOk) return result;
      await this.readAlerts(person, hooks, result);
      return result;
    } catch (err) {
      return { ...result, outcome: 'failed', error: (err as Error).message };
    } finally {
      await this.driver.hangUp();
    }
  }

  private refusedResult(refused: Refusal): Pick<InboundResult, 'outcome' | 'error' | 'lockedOut' | 'refused'> {
    const until = new Date(refused.until).toISOString();
    const why =
      refused.scope === 'global'
        ? 'too many PIN attempts this hour (all callers)'
        : `${refused.scope} locked out after wrong PINs`;
    return { outcome: 'failed', error: `${why} until ${until}`, lockedOut: true, refused: refused.scope };
  }

  /** Up to max_pin_tries tries in this call; every try is counted and persisted before the caller hears the answer. */
  private async checkPin(person: Person, callerKey: string, result: InboundResult): Promise<boolean> {
    for (let tries = 0; tries < this.config.max_pin_tries; tries++) {
      const refused = this.guard.refusal(callerKey, person.name);
      if (refused) {
        Object.assign(result, this.refusedResult(refused));
        return false;
      }
      const prompt = await this.driver.play(await this.speech.render(PIN_TEXT, 'enter-pin'), {
        interruptOnDigit: true,
      });
      if (prompt.hungUp) return this.hungUp(result);
      const collected = await this.driver.collect({
        maxDigits: 12,
        timeoutMs: this.settings.digitTimeoutMs * 2,
        interDigitTimeoutMs: this.settings.digitTimeoutMs,
        termKey: '#',
      });
      // The digit that cut the prompt short stays buffered (CTPort semantics), so collect returns it too.
      const entered = collected.digits.replace(/#$/, '');
      const hungUp = collected.reason === 'hangup';
      // Hanging up before any key is no try; hanging up half way through a PIN is one (no free guesses).
      if (hungUp && entered.length === 0) return this.hungUp(result);
      result.digits += MASKED_PIN;
      result.pinAttempts++;
      this.guard.attempt();
      if (entered === person.pin) {
        this.guard.right(callerKey, person.name);
        await this.persist();
        if (hungUp) return this.hungUp(result);
        return true;
      }
      result.wrongPins++;
      const started = this.guard.wrong(callerKey, person.name);
      await this.persist();
      if (started.length > 0) {
        const refused = this.guard.refusal(callerKey, person.name)!;
        Object.assign(result, this.refusedResult(refused), { lockoutStarted: true });
        result.error = `${result.wrongPins} wrong PINs in this call; ${result.error}`;
        return false;
      }
      if (hungUp) return this.hungUp(result);
      await this.driver.play(await this.speech.render(WRONG_PIN_TEXT, 'bad-pin'));
    }
    // Only reached if the strikes were cleared meanwhile (a right PIN on the same person's other call): end anyway.
    result.outcome = 'failed';
    result.error = `${result.wrongPins} wrong PINs in this call`;
    return false;
  }

  private async readAlerts(person: Person, hooks: InboundHooks, result: InboundResult): Promise<void> {
    const alerts = hooks.firingAlerts();
    if (alerts.length === 0) {
      await this.driver.play(await this.speech.render(NO_ALERTS_TEXT, 'no-alerts'));
      return;
    }
    const intro = await this.driver.play(await this.speech.render(inboundIntro(alerts.length), 'inbound-intro'), {
      interruptOnDigit: false,
    });
    if (intro.hungUp) return void this.hungUp(result);
    for (const alert of alerts) {
      let digit: string | null = null;
      for (const file of [
        await this.speech.render(describeAlert(alert), 'alert'),
        await this.speech.render(INBOUND_MENU_TEXT, 'inbound-menu'),
      ]) {
        const played = await this.driver.play(file, { interruptOnDigit: true });
        if (played.hungUp) return void this.hungUp(result);
        if (played.interruptedBy) {
          digit = played.interruptedBy;
          this.driver.flushDigits();
          break;
        }
      }
      if (digit === null) {
        const collected = await this.driver.collect({ maxDigits: 1, timeoutMs: this.settings.digitTimeoutMs });
        if (collected.reason === 'hangup') return void this.hungUp(result);
        digit = collected.digits[0] ?? '';
      }
      result.digits += digit;
      if (digit !== '1') continue;
      const voiceNote = this.config.voice_notes ? await this.recordNote(alert) : undefined;
      await hooks.acknowledge(alert, person, voiceNote);
      result.acked.push(alert.fingerprint);
      result.outcome = 'acknowledged';
    }
    await this.driver.play(await this.speech.render(GOODBYE_TEXT, 'goodbye'));
  }

  private async recordNote(alert: Alert): Promise<string | undefined> {
    const prompt = await this.driver.play(await this.speech.render(VOICE_NOTE_TEXT, 'voice-note'), {
      interruptOnDigit: true,
    });
    if (prompt.hungUp || prompt.interruptedBy === '#') return undefined;
    const path = join(this.settings.voiceNoteDir, `${alert.fingerprint}-${this.now()}.wav`);
    const recorded = await this.driver.record(path, { timeoutMs: this.config.max_voice_note, termKey: '#' });
    return recorded.durationMs > 0 ? path : undefined;
  }

  private hungUp(result: InboundResult): false {
    result.outcome = result.acked.length > 0 ? 'acknowledged' : 'hung_up';
    return false;
  }
}
