import { type LeaseEntry, LeaseTable } from './leases.ts';

interface Seen {
  revision: number;
  /** clock.monotonic() of the first sighting of `revision`. */
  since: number;
}

/**
 * What one member makes of the group's KV keys from its own sightings. Nothing in KV expires (LeaseTable), so a key
 * is stale once its revision has not moved for the lease timeout, counted on this member's monotonic clock from its
 * first sighting of that revision: never dated before the write it saw, never moved by a wall-clock step (both are
 * what LeaseTrust relies on). `now` is read after the listing the entries come from.
 */
export class LeaseSightings {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly leaseTimeout: number) {}

  /** A first sighting counts as movement: a member just started waits a full timeout before calling anyone dead. */
  stale(entry: LeaseEntry, now: number, factor = 1): boolean {
    const seen = this.seen.get(entry.key);
    if (!seen || seen.revision !== entry.revision) {
      this.seen.set(entry.key, { revision: entry.revision, since: now });
      return false;
    }
    return now - seen.since >= this.leaseTimeout * factor;
  }

  /** Monotonic ms since the first sighting of the revision last recorded for the key (0: never seen). */
  seenFor(entry: LeaseEntry, now: number): number {
    const seen = this.seen.get(entry.key);
    return seen ? now - seen.since : 0;
  }

  /** The member of a lease not yet seen stale (null: free, or its holder is gone); records no sighting. */
  holderOf(lease: LeaseEntry | undefined, now: number): string | null {
    if (!lease?.value) return null;
    const seen = this.seen.get(lease.key);
    const fresh = !seen || now - seen.since < this.leaseTimeout;
    return fresh ? lease.value.member : null;
  }

  /** Members whose key moved within the lease timeout; `me` counts even before its first write is seen. */
  liveMembers(me: string, entries: LeaseEntry[], now: number): string[] {
    const live = new Set([me]);
    for (const entry of entries) {
      const id = LeaseTable.memberOfKey(entry.key);
      if (id === null || entry.value === null) continue;
      if (!this.stale(entry, now)) live.add(id);
    }
    return [...live].sort();
  }
}
