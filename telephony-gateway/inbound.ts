import { join } from 'node:path';
import { z } from 'zod';
import type { Alert, CallOutcome } from '../shared/index.ts';
import type { GatewayConfig, Person } from './config.ts';
import type { LineDriver } from './drivers/driver.ts';
import type { Speech } from './speech.ts';
import { GOODBYE_TEXT, INBOUND_MENU_TEXT, NO_ALERTS_TEXT, PIN_TEXT, VOICE_NOTE_TEXT, WRONG_PIN_TEXT, describeAlert, inboundIntro } from './wording.ts';

/** PIN failures per caller; persisted so hanging up and calling again does not reset the count. */
export const LockoutState = z.record(z.string(), z.object({ failures: z.number().int().nonnegative(), lockedUntil: z.number() }));
export type LockoutState = z.infer<typeof LockoutState>;

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
  return a.length >= SUBSCRIBER_DIGITS && b.length >= SUBSCRIBER_DIGITS && a.slice(-SUBSCRIBER_DIGITS) === b.slice(-SUBSCRIBER_DIGITS);
}

/**
 * Answers a ringing line: unknown or withheld callers are hung up on without a word; known callers
 * give their PIN (too many wrong tries lock the number out for a while), then hear each firing alert
 * and press 1 to acknowledge it, optionally leaving a voice note.
 */
export class InboundScript {
  private lockouts: LockoutState = {};

  constructor(
    private readonly driver: LineDriver,
    private readonly speech: Speech,
    private readonly people: readonly Person[],
    private readonly config: GatewayConfig['inbound'],
    private readonly settings: { digitTimeoutMs: number; voiceNoteDir: string },
    private readonly now: () => number,
  ) {}

  loadLockouts(state: LockoutState | null): void {
    this.lockouts = state ? { ...state } : {};
  }

  lockoutSnapshot(): LockoutState {
    const now = this.now();
    for (const [key, entry] of Object.entries(this.lockouts)) if (entry.failures === 0 && entry.lockedUntil < now) delete this.lockouts[key];
    return { ...this.lockouts };
  }

  isLockedOut(callerId: string): boolean {
    return (this.lockouts[normaliseNumber(callerId)]?.lockedUntil ?? 0) > this.now();
  }

  personFor(callerId: string | null): Person | null {
    if (!callerId) return null;
    return this.people.find((p) => sameNumber(p.number, callerId)) ?? null;
  }

  async handle(hooks: InboundHooks): Promise<InboundResult> {
    const { callerId } = await this.driver.answerInbound();
    const person = this.personFor(callerId);
    const result: InboundResult = { callerId, person: person?.name ?? null, outcome: 'answered', digits: '', acked: [], lockedOut: false, lockoutStarted: false, wrongPins: 0 };
    try {
      if (!person || !person.pin) return { ...result, outcome: 'failed', error: callerId ? 'unknown caller' : 'caller ID withheld' };
      const key = normaliseNumber(person.number);
      if (this.isLockedOut(key)) return { ...result, outcome: 'failed', error: 'caller locked out after wrong PINs', lockedOut: true };
      const pinOk = await this.checkPin(person, key, result);
      if (!pinOk) return result;
      await this.readAlerts(person, hooks, result);
      return result;
    } catch (err) {
      return { ...result, outcome: 'failed', error: (err as Error).message };
    } finally {
      await this.driver.hangUp();
    }
  }

  private async checkPin(person: Person, key: string, result: InboundResult): Promise<boolean> {
    const entry = this.lockouts[key] ?? { failures: 0, lockedUntil: 0 };
    // A lockout that ran out gives a fresh set of tries.
    if (entry.lockedUntil !== 0 && entry.lockedUntil <= this.now()) Object.assign(entry, { failures: 0, lockedUntil: 0 });
    this.lockouts[key] = entry;
    while (entry.failures < this.config.max_pin_tries) {
      const prompt = await this.driver.play(await this.speech.render(PIN_TEXT, 'enter-pin'), { interruptOnDigit: true });
      if (prompt.hungUp) return this.hungUp(result);
      const collected = await this.driver.collect({ maxDigits: 12, timeoutMs: this.settings.digitTimeoutMs * 2, interDigitTimeoutMs: this.settings.digitTimeoutMs, termKey: '#' });
      // The digit that cut the prompt short stays buffered (CTPort semantics), so collect returns it too.
      const entered = collected.digits.replace(/#$/, '');
      result.digits += `${entered}#`;
      if (collected.reason === 'hangup') return this.hungUp(result);
      if (entered === person.pin) {
        entry.failures = 0;
        return true;
      }
      entry.failures++;
      result.wrongPins++;
      if (entry.failures >= this.config.max_pin_tries) break;
      await this.driver.play(await this.speech.render(WRONG_PIN_TEXT, 'bad-pin'));
    }
    entry.lockedUntil = this.now() + this.config.lockout;
    result.lockedOut = true;
    result.lockoutStarted = true;
    result.outcome = 'failed';
    result.error = `${entry.failures} wrong PINs; locked out until ${new Date(entry.lockedUntil).toISOString()}`;
    return false;
  }

  private async readAlerts(person: Person, hooks: InboundHooks, result: InboundResult): Promise<void> {
    const alerts = hooks.firingAlerts();
    if (alerts.length === 0) {
      await this.driver.play(await this.speech.render(NO_ALERTS_TEXT, 'no-alerts'));
      return;
    }
    const intro = await this.driver.play(await this.speech.render(inboundIntro(alerts.length), 'inbound-intro'), { interruptOnDigit: false });
    if (intro.hungUp) return void this.hungUp(result);
    for (const alert of alerts) {
      let digit: string | null = null;
      for (const file of [await this.speech.render(describeAlert(alert), 'alert'), await this.speech.render(INBOUND_MENU_TEXT, 'inbound-menu')]) {
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
    const prompt = await this.driver.play(await this.speech.render(VOICE_NOTE_TEXT, 'voice-note'), { interruptOnDigit: true });
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
