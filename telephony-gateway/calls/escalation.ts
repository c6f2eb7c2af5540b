import * as z from 'zod';
import type { Severity } from '../../shared/index.ts';
import type { GatewayConfig, Person } from '../config.ts';
import { mayCall } from './schedule.ts';

/** Where one alert's escalation stands; persisted in KV so a restart resumes instead of starting over. */
export const EscalationState = z.object({
  round: z.number().int().nonnegative(),
  /** Index into `people` of the person to call next. */
  person: z.number().int().nonnegative(),
  /** Attempts already made on that person this round. */
  attempts: z.number().int().nonnegative(),
  /** Not before this time (epoch ms). */
  nextAt: z.number(),
  /** Persons skipped this round for quiet hours, to name the fallback reason when nobody was callable. */
  quietSkips: z.number().int().nonnegative().default(0),
  callsMade: z.number().int().nonnegative().default(0),
});
export type EscalationState = z.infer<typeof EscalationState>;

export type AttemptResult = 'acknowledged' | 'passed' | 'unanswered' | 'line_failure' | 'number_throttled';

export type Finished = { done: true; reason: 'acknowledged' | 'nobody_answered' | 'quiet_hours' };
export type Next = { done: false; state: EscalationState };

type Policy = GatewayConfig['escalation'];

export function initialEscalation(receivedAt: number, policy: Policy): EscalationState {
  return { round: 0, person: 0, attempts: 0, nextAt: receivedAt + policy.group_wait, quietSkips: 0, callsMade: 0 };
}

function attemptsFor(person: Person, policy: Policy): number {
  return person.attempts ?? policy.attempts_per_person;
}

/** Moves on to the next person, or the next round after the last one; finished after max_rounds. */
function advancePerson(
  state: EscalationState,
  people: readonly Person[],
  policy: Policy,
  now: number,
): Next | Finished {
  const person = state.person + 1;
  if (person < people.length) return { done: false, state: { ...state, person, attempts: 0, nextAt: now } };
  const round = state.round + 1;
  if (round >= policy.max_rounds) {
    const everyoneQuiet = state.callsMade === 0 && state.quietSkips > 0;
    return { done: true, reason: everyoneQuiet ? 'quiet_hours' : 'nobody_answered' };
  }
  return {
    done: false,
    state: { ...state, round, person: 0, attempts: 0, quietSkips: 0, nextAt: now + policy.round_delay },
  };
}

/**
 * The person this alert should ring now, skipping people who are off call or in quiet hours for its
 * severity. Returns the (possibly advanced) state to keep even when nobody is callable yet.
 */
export function resolveTarget(
  state: EscalationState,
  severity: Severity,
  people: readonly Person[],
  policy: Policy,
  now: number,
): { kind: 'call'; person: number; state: EscalationState } | { kind: 'wait'; state: EscalationState } | Finished {
  let current = state;
  for (let guard = 0; guard <= people.length * policy.max_rounds; guard++) {
    if (current.nextAt > now) return { kind: 'wait', state: current };
    const person = people[current.person];
    const eligible = person ? mayCall(person, severity, now) : { ok: false as const, reason: 'off_call' as const };
    if (eligible.ok) return { kind: 'call', person: current.person, state: current };
    const skipped = { ...current, quietSkips: current.quietSkips + (eligible.reason === 'quiet_hours' ? 1 : 0) };
    const next = advancePerson(skipped, people, policy, now);
    if (next.done) return next;
    current = next.state;
  }
  return { done: true, reason: 'nobody_answered' };
}

/**
 * The state after one attempt on `state.person`. `retryAt` (number_throttled): when the per-number limit lets this
 * person be called again.
 */
export function afterAttempt(
  state: EscalationState,
  result: AttemptResult,
  people: readonly Person[],
  policy: Policy,
  now: number,
  retryAt?: number,
): Next | Finished {
  switch (result) {
    case 'acknowledged':
      return { done: true, reason: 'acknowledged' };
    case 'passed':
      return advancePerson({ ...state, callsMade: state.callsMade + 1 }, people, policy, now);
    case 'number_throttled': {
      // Never drop silently: a throttled number falls through to the next person. When there is nobody left in
      // this round (one person on call), wait for the limit instead of a whole round_delay or ending the chain.
      const next = advancePerson(state, people, policy, now);
      if (!next.done && next.state.round === state.round) return next;
      return { done: false, state: { ...state, nextAt: retryAt ?? now + policy.retry_delay } };
    }
    case 'line_failure':
      // Not the person's fault: try the same person again later without spending an attempt.
      return { done: false, state: { ...state, nextAt: now + policy.retry_delay } };
    case 'unanswered': {
      const attempts = state.attempts + 1;
      const made = { ...state, attempts, callsMade: state.callsMade + 1 };
      const person = people[state.person];
      if (person && attempts < attemptsFor(person, policy))
        return { done: false, state: { ...made, nextAt: now + policy.retry_delay } };
      return advancePerson(made, people, policy, now);
    }
  }
}
