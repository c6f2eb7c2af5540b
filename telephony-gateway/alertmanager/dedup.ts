/**
 * Notifications seen recently, by (fingerprint, status, startsAt): Alertmanager retries a failed
 * POST and re-sends a whole group whenever one alert in it changes, and none of that may queue a
 * second call. Bounded in time and in entries; the oldest are forgotten first.
 */
export class RecentNotifications {
  private readonly seenAt = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  static key(fingerprint: string, status: string, startsAt: number): string {
    return `${fingerprint}/${status}/${startsAt}`;
  }

  has(key: string): boolean {
    this.prune();
    return this.seenAt.has(key);
  }

  remember(key: string): void {
    this.seenAt.delete(key);
    this.seenAt.set(key, this.now());
    this.prune();
  }

  get size(): number {
    return this.seenAt.size;
  }

  /** Insertion order is age order, so expired entries are always at the front. */
  private prune(): void {
    const oldest = this.now() - this.windowMs;
    for (const [key, at] of this.seenAt) {
      if (at > oldest && this.seenAt.size <= this.maxEntries) break;
      this.seenAt.delete(key);
    }
  }
}
