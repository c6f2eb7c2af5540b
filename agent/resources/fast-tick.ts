import { systemClock, type Clock, type ClockTimer, type Logger, type MetricPoint } from '../../shared/index.ts';
import type { Deadband } from './deadband.ts';
import type { GaugeGroup } from './fast-gauges.ts';

export interface FastTickOptions {
  intervalMs: number;
  read: () => Promise<GaugeGroup[]>;
  deadband: Deadband;
  /** Publishes a partial ResourceSample (only the moved groups' points). */
  publish: (points: MetricPoint[]) => Promise<void>;
  /** True while a full sample reads its gauges until it is submitted: a fast read would only race it. */
  busy: () => boolean;
  /**
   * How many full samples have read their gauges: one that did during this tick's read was submitted with values at
   * least as new, and this tick's (older) publish after it would contradict it. Absent: no full samples to race.
   */
  fullSamples?: () => number;
  logger: Logger;
  clock?: Clock;
}

/**
 * Between full samples: every `intervalMs` read the cheap gauges and publish at once the groups that moved past
 * their deadband, so the collector (which judges each sample on arrival) sees a breach within one tick.
 */
export class FastTick {
  private timer: ClockTimer | null = null;
  private dueAt: number | null = null;
  private stopped = false;
  private readonly clock: Clock;

  constructor(private readonly options: FastTickOptions) {
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    this.schedule();
  }

  /**
   * At a fixed rate: each tick is due one interval after the previous one was, not after it finished. Timed from the
   * end, the period grew by the tick's own read (a statfs per mount through the libuv pool, slow on a busy host), and
   * with it the worst case of breach to publish. A tick that overran its interval is followed at once, not by a burst.
   */
  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.dueAt = Math.max(now, (this.dueAt ?? now) + this.options.intervalMs);
    this.timer = this.clock.setTimeout(() => void this.tick().finally(() => this.schedule()), this.dueAt - now);
  }

  /** One read and, if anything moved, one publish; never throws. Returns the points published. */
  async tick(): Promise<MetricPoint[]> {
    if (this.stopped || this.options.busy()) return [];
    const fullSamples = this.options.fullSamples?.();
    try {
      const moved = this.options.deadband.moved(await this.options.read());
      const raced = this.options.busy() || this.options.fullSamples?.() !== fullSamples;
      if (moved.length === 0 || this.stopped || raced) return [];
      const points = moved.flatMap((group) => group.points);
      this.options.deadband.published(points);
      await this.options.publish(points);
      return points;
    } catch (err) {
      this.options.logger.warn({ err }, 'fast gauge read failed');
      return [];
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
  }
}
