/**
 * Time is injected so that `for` durations, escalation delays and budgets can be tested in
 * milliseconds without sleeping. Production code uses systemClock.
 */
export interface Clock {
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never step (performance.now()): for measuring how long ago something
   * happened where a wall-clock step (NTP, an operator) must not stretch or shrink the interval, e.g. lease ages.
   */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
}
export type ClockTimer = { readonly __timer: unique symbol } | NodeJS.Timeout;

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** An epoch-ms time as RFC 3339 in UTC with milliseconds, as Alertmanager's API and the notifiers write times. */
export function rfc3339(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** A clock tests advance by hand; timers fire in due order during advance(). */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 0;
  private timers = new Map<number, { due: number; fn: () => void }>();
  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  /** The same time as now(): a test's advance() moves both, as real time moves both clocks. */
  monotonic(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): ClockTimer {
    const id = ++this.nextId;
    this.timers.set(id, { due: this.current + Math.max(0, ms), fn });
    return id as unknown as ClockTimer;
  }
  clearTimeout(timer: ClockTimer): void {
    this.timers.delete(timer as unknown as number);
  }
  /** Moves time forward, firing due timers in order (timers set by timers fire too). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextDue = Infinity;
      for (const [id, timer] of this.timers)
        if (timer.due <= target && timer.due < nextDue) [nextId, nextDue] = [id, timer.due];
      if (nextId < 0) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, timer.due);
      timer.fn();
    }
    this.current = target;
  }
  pendingTimers(): number {
    return this.timers.size;
  }
}
