import type { Clock } from '../../shared/index.ts';

/** Sliding window: at most `max` sends in any `perMs`. */
export class RateLimiter {
  private readonly sent: number[] = [];
  constructor(
    private readonly max: number,
    private readonly perMs: number,
    private readonly clock: Clock,
  ) {}

  /** 0 when a send may go now, else the milliseconds until one may. */
  waitMs(): number {
    const now = this.clock.now();
    while (this.sent.length > 0 && this.sent[0]! <= now - this.perMs) this.sent.shift();
    return this.sent.length < this.max ? 0 : this.sent[0]! + this.perMs - now;
  }

  record(): void {
    this.sent.push(this.clock.now());
  }
}
