import type { Clock } from '../../shared/index.ts';

/** Both clocks at the moment a lease write was sent (read before it is issued: its age is never underestimated). */
export interface Sent {
  wall: number;
  monotonic: number;
}

export type FenceOutcome = 'local' | 'renewed' | 'lost' | 'error';
export const FENCE_OUTCOMES: readonly FenceOutcome[] = ['local', 'renewed', 'lost', 'error'];

/**
 * How long a lease write proves the lease ours without asking KV. Another member takes a lease only once it has seen
 * its revision unchanged for lease_timeout on its own monotonic clock, counted from its first sighting of that
 * revision (read after its listing returned), which comes after our write was applied, which comes after we sent it:
 * nobody takes the partition before send time + lease_timeout (clock rates differ far less than that). We trust it
 * for half of it: a write fenced just before the margin ends still has lease_timeout / 2 to land. The age is measured
 * on both clocks and trusted only while both agree: the monotonic one does not step with NTP, but may not count a
 * suspended machine's sleep, which the wall clock does.
 */
export class LeaseTrust {
  private readonly sent = new Map<number, Sent>();
  readonly margin: number;

  constructor(
    private readonly clock: Clock,
    leaseTimeout: number,
  ) {
    this.margin = Math.floor(leaseTimeout / 2);
  }

  sending(): Sent {
    return { wall: this.clock.now(), monotonic: this.clock.monotonic() };
  }

  /** A write of the lease sent at `sent` succeeded. */
  wrote(partition: number, sent: Sent): void {
    this.sent.set(partition, sent);
  }

  /** Monotonic ms since the last successful write of the lease was sent (Infinity: never). */
  age(partition: number): number {
    return this.clock.monotonic() - (this.sent.get(partition)?.monotonic ?? -Infinity);
  }

  /** The lease (held) is still provably ours: no KV round trip needed to fence a write. */
  fresh(partition: number): boolean {
    const sent = this.sent.get(partition);
    if (!sent) return false;
    const wall = this.clock.now() - sent.wall;
    return this.age(partition) < this.margin && wall >= 0 && wall < this.margin;
  }

  /**
   * A lease of our own id that we do not hold (a previous run's, before a restart) is no longer trusted by that run:
   * its `at` (send time) is past the margin on our wall clock (one member id runs on one host, by default its host
   * name, so both runs read the same wall clock), or we have seen it unchanged that long (`seenFor`, monotonic).
   * From then on that run's next fence goes to KV and fails once we took the lease. Taking it back at once, as
   * before fences were local, let a run that was only paused (SIGSTOP) and resumed write beside us.
   */
  outlived(at: number, seenFor: number): boolean {
    return this.clock.now() - at >= this.margin || seenFor >= this.margin;
  }
}
