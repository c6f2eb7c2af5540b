import * as z from 'zod';
import type { GatewayMetrics } from '../status/metrics.ts';

const HOUR = 3_600_000;
/** However often a caller fails, one lockout never lasts longer than a day. */
const MAX_LOCKOUT_MS = 24 * HOUR;

const Strikes = z.object({
  /** Wrong PINs since the last lockout ended (or the last right PIN). */
  failures: z.number().int().nonnegative(),
  lockedUntil: z.number(),
  /** Lockouts in a row without a right PIN in between: each one lasts twice as long as the one before. */
  lockouts: z.number().int().nonnegative().default(0),
});
type Strikes = z.infer<typeof Strikes>;

/**
 * What survives a restart (KV key `pin-guard`, written after every wrong PIN): strikes per caller ID
 * (digits only) and per person, and the time of every PIN attempt in the last hour (the global cap).
 * No PIN and no entered digit is ever part of it.
 */
export const LockoutState = z.object({
  callers: z.record(z.string(), Strikes).default({}),
  people: z.record(z.string(), Strikes).default({}),
  attempts: z.array(z.number()).default([]),
});
export type LockoutState = z.infer<typeof LockoutState>;

export interface PinPolicy {
  /** Wrong PINs from one caller ID before it is locked out. */
  maxPinTries: number;
  /** Wrong PINs for one person (from any caller ID) before the person is locked out: 2 × maxPinTries. */
  personTries: number;
  /** First lockout; each further one in a row doubles, up to a day. */
  lockoutMs: number;
  /** PIN attempts (right or wrong, any caller) per rolling hour; beyond it nobody may try until the hour frees up. */
  maxAttemptsPerHour: number;
}

export type Refusal = { scope: 'caller' | 'person'; until: number } | { scope: 'global'; until: number };

/**
 * The PIN lockout rules, apart from the line: per caller ID and per person, exponential back-off,
 * and a global cap on attempts per hour. A spoofed caller ID can lock its own key and, after more
 * tries, the person's; the person's real phone then waits like everyone else, for at most a day.
 */
export class PinGuard {
  private state: LockoutState = { callers: {}, people: {}, attempts: [] };

  constructor(
    private readonly policy: PinPolicy,
    private readonly now: () => number,
  ) {}

  load(state: LockoutState | null): void {
    this.state = state ? structuredClone(state) : { callers: {}, people: {}, attempts: [] };
  }

  snapshot(): LockoutState {
    const now = this.now();
    this.state.attempts = this.state.attempts.filter((at) => at > now - HOUR);
    for (const table of [this.state.callers, this.state.people]) {
      for (const [key, s] of Object.entries(table)) {
        if (s.failures === 0 && s.lockouts === 0 && s.lockedUntil < now) delete table[key];
      }
    }
    return structuredClone(this.state);
  }

  /** Why this caller may not enter a PIN now, or null. */
  refusal(callerKey: string, person: string): Refusal | null {
    const now = this.now();
    const caller = this.state.callers[callerKey];
    if (caller && caller.lockedUntil > now) return { scope: 'caller', until: caller.lockedUntil };
    const who = this.state.people[person];
    if (who && who.lockedUntil > now) return { scope: 'person', until: who.lockedUntil };
    const recent = this.state.attempts.filter((at) => at > now - HOUR);
    if (recent.length >= this.policy.maxAttemptsPerHour) return { scope: 'global', until: recent[0]! + HOUR };
    return null;
  }

  /** Counts one attempt against the hourly cap (before the PIN is compared, so a hang-up mid-check still counts). */
  attempt(): void {
    this.state.attempts.push(this.now());
  }

  /** A wrong PIN; returns the lockouts it started (none, or the caller's and/or the person's). */
  wrong(callerKey: string, person: string): Array<'caller' | 'person'> {
    const started: Array<'caller' | 'person'> = [];
    if (this.strike(this.state.callers, callerKey, this.policy.maxPinTries)) started.push('caller');
    if (this.strike(this.state.people, person, this.policy.personTries)) started.push('person');
    return started;
  }

  /** A right PIN clears this caller's and this person's strikes. */
  right(callerKey: string, person: string): void {
    delete this.state.callers[callerKey];
    delete this.state.people[person];
  }

  private strike(table: Record<string, Strikes>, key: string, limit: number): boolean {
    const now = this.now();
    const s = (table[key] ??= { failures: 0, lockedUntil: 0, lockouts: 0 });
    // A lockout that ran out gives a fresh set of tries, but the next lockout will be longer.
    if (s.lockedUntil !== 0 && s.lockedUntil <= now) Object.assign(s, { failures: 0, lockedUntil: 0 });
    s.failures++;
    if (s.failures < limit) return false;
    s.lockouts++;
    s.lockedUntil = now + Math.min(MAX_LOCKOUT_MS, this.policy.lockoutMs * 2 ** (s.lockouts - 1));
    return true;
  }
}

/** The lockout gauges: caller IDs and people locked out now, PIN attempts in the rolling hour. */
export function reportPinState(metrics: GatewayMetrics, state: LockoutState, now: number): void {
  const locked = (table: Record<string, { lockedUntil: number }>): number =>
    Object.values(table).filter((s) => s.lockedUntil > now).length;
  metrics.lockedOut.set({ scope: 'caller' }, locked(state.callers));
  metrics.lockedOut.set({ scope: 'person' }, locked(state.people));
  metrics.pinAttemptsLastHour.set(state.attempts.length);
}
