import * as z from 'zod';
import type { BudgetConfig } from '../config.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const PlacedCall = z.object({
  at: z.number(),
  number: z.string(),
  durationMs: z.number().nonnegative(),
  cost: z.number().nonnegative(),
});
export type PlacedCall = z.infer<typeof PlacedCall>;
/** What survives a restart (KV key `budget`): the calls of the last day. */
export const BudgetState = z.object({ calls: z.array(PlacedCall) });
export type BudgetState = z.infer<typeof BudgetState>;

export type LimitName =
  | 'calls_per_hour'
  | 'calls_per_day'
  | 'call_minutes_per_day'
  | 'cost_per_day'
  | 'number_calls_per_minute'
  | 'number_calls_per_15m'
  | 'number_calls_per_hour'
  | 'number_calls_per_day';

export type BudgetDecision = { ok: true } | { ok: false; scope: 'total' | 'number'; limit: LimitName; detail: string };

/** Started minutes, the way carriers bill. */
export function billedMinutes(durationMs: number): number {
  return durationMs <= 0 ? 0 : Math.ceil(durationMs / MINUTE);
}

/**
 * Call limits over rolling windows (hour, day) in total and per number, plus minutes and estimated
 * cost per day. A limit of 0 means "no calls" for counts and "no cap" for cost, matching how the
 * config documents them.
 */
export class Budget {
  private calls: PlacedCall[] = [];

  constructor(private readonly config: BudgetConfig) {}

  /** The currency every cost here is in (budget.currency), for anything that shows a cost to a person. */
  get currency(): string {
    return this.config.currency;
  }

  load(state: BudgetState | null): void {
    this.calls = state ? [...state.calls] : [];
  }

  snapshot(now: number): BudgetState {
    this.prune(now);
    return { calls: [...this.calls] };
  }

  costPerMinute(number: string): number {
    let best: { prefix: string; cost: number } | null = null;
    for (const entry of this.config.cost_per_minute) {
      if (number.startsWith(entry.prefix) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
    }
    return best?.cost ?? 0;
  }

  estimateCost(number: string, durationMs: number): number {
    return Math.round(billedMinutes(durationMs) * this.costPerMinute(number) * 10_000) / 10_000;
  }

  /** May a call to `number` be placed now? Total limits are checked first: they end the escalation. */
  check(number: string, now: number): BudgetDecision {
    this.prune(now);
    const total = this.config;
    const since = (ms: number, only?: string): number =>
      this.calls.filter((c) => c.at > now - ms && (only === undefined || c.number === only)).length;
    const deny = (scope: 'total' | 'number', limit: LimitName, used: number, max: number): BudgetDecision => ({
      ok: false,
      scope,
      limit,
      detail: `${limit.replace(/_/g, ' ')}: ${used} of ${max} used`,
    });

    if (since(HOUR) >= total.max_calls_per_hour)
      return deny('total', 'calls_per_hour', since(HOUR), total.max_calls_per_hour);
    if (since(DAY) >= total.max_calls_per_day)
      return deny('total', 'calls_per_day', since(DAY), total.max_calls_per_day);
    const minutes = this.minutesToday(now);
    if (minutes >= total.max_call_minutes_per_day)
      return deny('total', 'call_minutes_per_day', minutes, total.max_call_minutes_per_day);
    const cost = this.costToday(now);
    if (total.max_cost_per_day > 0 && cost >= total.max_cost_per_day)
      return deny('total', 'cost_per_day', cost, total.max_cost_per_day);

    const perNumber = total.per_number;
    const windows: Array<[LimitName, number, number]> = [
      ['number_calls_per_minute', MINUTE, perNumber.max_calls_per_minute],
      ['number_calls_per_15m', 15 * MINUTE, perNumber.max_calls_per_15m],
      ['number_calls_per_hour', HOUR, perNumber.max_calls_per_hour],
      ['number_calls_per_day', DAY, perNumber.max_calls_per_day],
    ];
    for (const [limit, window, max] of windows) {
      const used = since(window, number);
      if (used >= max) return deny('number', limit, used, max);
    }
    return { ok: true };
  }

  /** The earliest time the per-number limits let `number` be called again (Infinity when a limit is 0). */
  numberAllowedAt(number: string, now: number): number {
    this.prune(now);
    const perNumber = this.config.per_number;
    const mine = this.calls
      .filter((c) => c.number === number)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    let at = now;
    const limits = [
      [MINUTE, perNumber.max_calls_per_minute],
      [15 * MINUTE, perNumber.max_calls_per_15m],
      [HOUR, perNumber.max_calls_per_hour],
      [DAY, perNumber.max_calls_per_day],
    ] as const;
    for (const [window, max] of limits) {
      const inWindow = mine.filter((t) => t > now - window);
      if (inWindow.length < max) continue;
      if (max === 0) return Infinity;
      // Once the oldest calls that put it at the limit have left the window, one more fits.
      at = Math.max(at, inWindow[inWindow.length - max]! + window + 1);
    }
    return at;
  }

  /** Counts a placed call (answered or not: the line was used and the carrier may bill). */
  record(call: PlacedCall): void {
    this.calls.push(call);
  }

  /** Amends the last record for a call once its duration is known. */
  finish(at: number, number: string, durationMs: number): number {
    const cost = this.estimateCost(number, durationMs);
    const call = this.calls.find((c) => c.at === at && c.number === number);
    if (call) Object.assign(call, { durationMs, cost });
    return cost;
  }

  minutesToday(now: number): number {
    return this.calls.filter((c) => c.at > now - DAY).reduce((sum, c) => sum + billedMinutes(c.durationMs), 0);
  }

  costToday(now: number): number {
    return this.calls.filter((c) => c.at > now - DAY).reduce((sum, c) => sum + c.cost, 0);
  }

  /** What is left of each total limit, for the budget gauge. */
  remaining(now: number): Record<'calls_per_hour' | 'calls_per_day' | 'call_minutes_per_day' | 'cost_per_day', number> {
    this.prune(now);
    const inHour = this.calls.filter((c) => c.at > now - HOUR).length;
    const inDay = this.calls.filter((c) => c.at > now - DAY).length;
    return {
      calls_per_hour: Math.max(0, this.config.max_calls_per_hour - inHour),
      calls_per_day: Math.max(0, this.config.max_calls_per_day - inDay),
      call_minutes_per_day: Math.max(0, this.config.max_call_minutes_per_day - this.minutesToday(now)),
      cost_per_day:
        this.config.max_cost_per_day > 0 ? Math.max(0, this.config.max_cost_per_day - this.costToday(now)) : Infinity,
    };
  }

  private prune(now: number): void {
    if (this.calls.length > 0 && this.calls[0]!.at <= now - DAY)
      this.calls = this.calls.filter((c) => c.at > now - DAY);
  }
}
