/**
 * A verdict on each name by its position in a list sent in the same order every time (an agent's metric points):
 * the name, a fresh string from JSON.parse each time, compares with the one last seen at its position faster than it
 * is hashed for a Set or Map. Positions from `maxPositions` on are never kept, so memory stays bounded.
 * Use: `memo.get(name, at) ?? memo.set(name, at, judge(name))`.
 */
export class ByPosition<T extends {}> {
  private readonly names: string[] = [];
  private readonly verdicts: T[] = [];

  constructor(private readonly maxPositions: number) {}

  /** The verdict kept for `name` at `at`, or undefined when another name (or none) was seen there last. */
  get(name: string, at: number): T | undefined {
    return this.names[at] === name ? this.verdicts[at] : undefined;
  }

  /** Keeps `verdict` for `name` at `at` and returns it. */
  set(name: string, at: number, verdict: T): T {
    if (at < this.maxPositions) {
      this.names[at] = name;
      this.verdicts[at] = verdict;
    }
    return verdict;
  }

  /** Forgets every verdict: what they were judged on has changed. */
  clear(): void {
    this.names.length = this.verdicts.length = 0;
  }
}
