import type { CollectorHeartbeat } from '../../shared/index.ts';

/**
 * Which partitions a live collector covers. Every partition 0..count-1 remembers the last time any member claimed
 * it; a partition nobody claimed for longer than the silence is uncovered. Before the first heartbeat there is one
 * partition, "claimed" when the gateway started, so a collector already dead at start is noticed too.
 */
export class CollectorCoverage {
  private count = 1;
  private readonly lastClaimed = new Map<number, number>();
  private readonly members = new Map<string, number>();

  constructor(startedAt: number) {
    this.lastClaimed.set(0, startedAt);
  }

  onHeartbeat(beat: CollectorHeartbeat, now: number): void {
    this.members.set(beat.member, now);
    if (beat.partitions.count !== this.count) {
      // The group was resized: new partitions get a full silence of grace from now, dropped ones are forgotten.
      for (let p = this.count; p < beat.partitions.count; p++) this.lastClaimed.set(p, now);
      for (let p = beat.partitions.count; p < this.count; p++) this.lastClaimed.delete(p);
      this.count = beat.partitions.count;
    }
    for (const p of beat.partitions.owned) this.lastClaimed.set(p, now);
  }

  /** Partitions nobody claimed for more than `silenceMs`, and since when the oldest of them was last claimed. */
  uncovered(now: number, silenceMs: number): { partitions: number[]; count: number; since: number } | null {
    const partitions: number[] = [];
    let since = now;
    for (const [p, at] of this.lastClaimed) {
      if (now - at <= silenceMs) continue;
      partitions.push(p);
      since = Math.min(since, at);
    }
    return partitions.length === 0 ? null : { partitions: partitions.sort((a, b) => a - b), count: this.count, since };
  }

  /** Longest time any partition has gone unclaimed (the silence gauge). */
  oldestClaimAge(now: number): number {
    let oldest = 0;
    for (const at of this.lastClaimed.values()) oldest = Math.max(oldest, now - at);
    return oldest;
  }

  liveMembers(now: number, silenceMs: number): number {
    let live = 0;
    for (const at of this.members.values()) if (now - at <= silenceMs) live++;
    return live;
  }
}
