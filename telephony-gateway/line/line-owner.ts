import type { Clock, ClockTimer, Logger } from '../../shared/index.ts';
import type { LineDriver } from '../drivers/driver.ts';

/** What one kind of call wants from the line now. */
export type Turn =
  /** Take the line and run this call to the end (on hook). */
  | { call: () => Promise<void> }
  /** Nothing for the line until then (null: until woken). */
  | { sleepUntil: number | null }
  /** Nothing from this kind of call: ask the next one. */
  | null;

/** A kind of call (inbound, test, outbound): asked in turn what it wants from the line. */
export interface LineUser {
  turn(): Turn | Promise<Turn>;
}

/**
 * The owner of the one line. One loop asks each kind of call, most urgent first, what it wants; runs one call to the
 * end, then asks again. So two calls never overlap by construction: everything else only changes what the kinds of
 * call would answer, and wakes the loop.
 */
export class LineOwner {
  private users: readonly LineUser[] = [];
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private wakePending = false;
  private loop: Promise<void> | null = null;
  private offHookNow = false;

  constructor(private readonly parts: { driver: LineDriver; clock: Clock; logger: Logger }) {}

  /** True while the line is off hook for a call (outbound, inbound or test). */
  get busy(): boolean {
    return this.offHookNow;
  }

  /** True once stop() was called: a call cut short by it is neither recorded nor followed up. */
  get stopping(): boolean {
    return this.stopped;
  }

  /** Runs a call's use of the line: `busy` meanwhile, and a stop hangs it up. */
  async offHook<T>(call: () => Promise<T>): Promise<T> {
    this.offHookNow = true;
    try {
      return await call();
    } finally {
      this.offHookNow = false;
    }
  }

  /** Ends the call on the line now (safe when on hook). */
  hangUp(): Promise<void> {
    return this.parts.driver.hangUp();
  }

  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = null;
    // Nobody asleep: the loop is mid-step, so make its next sleep return at once and look again.
    if (wake) wake();
    else this.wakePending = true;
  }

  /** Starts the loop; `users` in the order they are asked, the most urgent first. */
  start(users: readonly LineUser[]): void {
    this.users = users;
    this.loop ??= this.run();
  }

  /** Stops after the current step; a call in progress is hung up rather than finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    if (this.offHookNow) await this.parts.driver.hangUp();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.step();
      } catch (err) {
        // The loop must outlive any single failure: the next alert still needs the line.
        this.parts.logger.error({ err }, 'line worker step failed');
        await this.parts.driver.hangUp();
        await this.sleep(this.parts.clock.now() + 1000);
      }
    }
  }

  private async step(): Promise<void> {
    for (const user of this.users) {
      const turn = await user.turn();
      if (turn === null) continue;
      if ('call' in turn) return turn.call();
      return this.sleep(turn.sleepUntil);
    }
    return this.sleep(null);
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
}
