import type { KV } from '@nats-io/kv';
import { listKeys } from '../../shared/index.ts';

const PARTITION_PREFIX = 'group.partition.';
const MEMBER_PREFIX = 'group.member.';

/** What a partition lease says: who holds it and how far it has read EVENTS (for the status page's lag). */
export interface LeaseValue {
  member: string;
  seq: number;
  at: number;
}

export interface LeaseEntry {
  key: string;
  revision: number;
  value: LeaseValue | null;
}

/**
 * Partition leases and member presence in the collector's KV bucket `<prefix>-checkpoints` (keys `group.*`).
 * nats-server 2.9 has no per-key TTL, so nothing here expires by itself: every write is a compare-and-swap on the
 * revision, and a reader decides a lease is stale when its revision has not moved for the lease timeout.
 */
export class LeaseTable {
  constructor(private readonly kv: KV) {}

  static partitionKey(partition: number): string {
    return `${PARTITION_PREFIX}${partition}`;
  }

  static partitionOfKey(key: string): number | null {
    if (!key.startsWith(PARTITION_PREFIX)) return null;
    const n = Number(key.slice(PARTITION_PREFIX.length));
    return Number.isInteger(n) ? n : null;
  }

  static memberOfKey(key: string): string | null {
    return key.startsWith(MEMBER_PREFIX) ? key.slice(MEMBER_PREFIX.length) : null;
  }

  /** Takes a free partition; null when someone else created the lease first. */
  async create(partition: number, value: LeaseValue): Promise<number | null> {
    try {
      return await this.kv.create(LeaseTable.partitionKey(partition), JSON.stringify(value));
    } catch (err) {
      if (isConflict(err)) return null;
      throw err;
    }
  }

  /** Renews (or takes over) a lease at `revision`; null when the revision moved: the lease is someone else's now. */
  async swap(partition: number, value: LeaseValue, revision: number): Promise<number | null> {
    try {
      return await this.kv.update(LeaseTable.partitionKey(partition), JSON.stringify(value), revision);
    } catch (err) {
      if (isConflict(err)) return null;
      throw err;
    }
  }

  /** Gives a partition up, only if it is still ours at `revision`. */
  async release(partition: number, revision: number): Promise<void> {
    try {
      await this.kv.delete(LeaseTable.partitionKey(partition), { previousSeq: revision });
    } catch (err) {
      if (!isConflict(err)) throw err; // already taken over: nothing of ours to release
    }
  }

  async announce(member: string, at: number): Promise<void> {
    await this.kv.put(`${MEMBER_PREFIX}${member}`, JSON.stringify({ at }));
  }

  async leave(member: string): Promise<void> {
    await this.kv.delete(`${MEMBER_PREFIX}${member}`);
  }

  /** Every `group.*` entry, deleted ones with a null value (a released partition is free at once). */
  async list(): Promise<LeaseEntry[]> {
    const keys: string[] = [];
    keys.push(...(await listKeys(this.kv, 'group.>')));
    const entries: LeaseEntry[] = [];
    for (const key of keys) {
      const entry = await this.kv.get(key);
      if (!entry) continue;
      let value: LeaseValue | null = null;
      if (entry.operation === 'PUT' && entry.length > 0) {
        try {
          value = entry.json<LeaseValue>();
        } catch {
          value = null; // an unreadable lease is treated as free; the next holder overwrites it by revision
        }
      }
      entries.push({ key, revision: entry.revision, value });
    }
    return entries;
  }
}

function isConflict(err: unknown): boolean {
  return /wrong last sequence|key exists|10071/i.test((err as Error)?.message ?? '');
}
