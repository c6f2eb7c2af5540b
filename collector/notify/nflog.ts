import type { KV } from '@nats-io/kv';
import { Alert, listKeys, liveKeys } from '../../shared/index.ts';
import type { NotificationGroup, NotificationReason } from './types.ts';

/** What a notification-log entry records: enough to answer "was this sent, when, how". */
export interface NflogEntry {
  sentAt: number;
  receiver: string;
  reason: NotificationReason;
  attempts: number;
}

export interface PendingNotification {
  receiver: string;
  reason: NotificationReason;
  alert: Alert;
  acceptedAt: number;
  /** This acceptance's id (idempotency.ts), kept on resume; absent in entries of older versions. */
  id?: string;
  /** For reason 'fallback': why the gateway did not phone, so a resumed notification still says it. */
  fallbackReason?: string;
  /** Its aggregation group (groupKey and group labels); absent in entries of older versions. */
  group?: NotificationGroup;
  /** Which collector (member id) and which run of it accepted this; absent in entries of older versions. */
  member?: string;
  run?: string;
}

/** The collector run that accepts notifications: its member id and a random id of this process's run. */
export interface PendingOwner {
  member: string;
  run: string;
}

const PENDING = 'pending.';
const REASONS: NotificationReason[] = ['firing', 'repeat', 'resolved', 'flapping', 'fallback'];

/**
 * The notification log in KV (bucket `<prefix>-nflog`), the dedup source of truth: a key
 * exists once that notification was delivered, so a restarted collector re-deriving the same
 * transitions sends nothing twice. Key: <fingerprint>.<generation>.<receiver>.<what>, where
 * <what> is the reason (firing, resolved, flapping), repeat-<n>, or fallback-<gateway reason>.
 */
export class NotificationLog {
  constructor(private readonly kv: KV) {}

  static key(alert: Pick<Alert, 'fingerprint' | 'generation'>, receiver: string, what: string): string {
    return `${alert.fingerprint}.${alert.generation}.${receiver}.${what}`;
  }

  async wasSent(key: string): Promise<boolean> {
    const entry = await this.kv.get(key);
    return entry !== null && entry.operation === 'PUT' && entry.length > 0;
  }

  async record(key: string, entry: NflogEntry): Promise<void> {
    await this.kv.put(key, JSON.stringify(entry));
  }

  /**
   * Pending entries (pending.<key>) hold what was accepted but not yet delivered, alert included,
   * so a collector killed between accepting and delivering finishes the job after restart.
   */
  async markPending(key: string, pending: PendingNotification): Promise<void> {
    await this.kv.put(`${PENDING}${key}`, JSON.stringify(pending));
  }

  async clearPending(key: string): Promise<void> {
    await this.kv.delete(`${PENDING}${key}`);
  }

  /** Every pending notification; unreadable entries are returned as null so the caller can clear them. */
  async pending(): Promise<{ key: string; notification: PendingNotification | null }[]> {
    const found: { key: string; notification: PendingNotification | null }[] = [];
    for (const stored of await listKeys(this.kv, `${PENDING}>`)) {
      const entry = await this.kv.get(stored);
      if (entry?.operation !== 'PUT' || entry.length === 0) continue;
      const key = stored.slice(PENDING.length);
      try {
        const raw = entry.json<PendingNotification>();
        const alert = Alert.safeParse(raw.alert);
        const valid = alert.success && typeof raw.receiver === 'string' && REASONS.includes(raw.reason);
        const { fallbackReason, member, run, group, id, ...rest } = raw;
        const reason = typeof fallbackReason === 'string' ? { fallbackReason } : {};
        const owner = typeof member === 'string' && typeof run === 'string' ? { member, run } : {};
        const grouped = isGroup(group) ? { group } : {};
        const accepted = typeof id === 'string' ? { id } : {};
        const notification = valid
          ? { ...rest, ...reason, ...owner, ...grouped, ...accepted, alert: alert.data }
          : null;
        found.push({ key, notification });
      } catch {
        found.push({ key, notification: null });
      }
    }
    return found;
  }

  /**
   * The <what> parts logged for this alert generation and receiver: ["firing", "repeat-1", ...], pending ones
   * included: a collector killed after delivering but before logging leaves only its pending entry, and the member
   * of a collector group that takes the partition over must still know the receiver was (very likely) told.
   */
  async sentKinds(alert: Pick<Alert, 'fingerprint' | 'generation'>, receiver: string): Promise<string[]> {
    const prefix = NotificationLog.key(alert, receiver, '');
    const kinds = new Set<string>();
    for (const key of await liveKeys(this.kv, `${prefix}*`)) kinds.add(key.slice(prefix.length));
    const pending = `${PENDING}${prefix}`;
    for (const key of await liveKeys(this.kv, `${pending}*`)) kinds.add(key.slice(pending.length));
    return [...kinds];
  }
}

function isGroup(value: unknown): value is NotificationGroup {
  if (typeof value !== 'object' || value === null) return false;
  const { key, labels, wait, interval } = value as Record<string, unknown>;
  return (
    typeof key === 'string' &&
    (wait === undefined || typeof wait === 'number') &&
    (interval === undefined || typeof interval === 'number') &&
    typeof labels === 'object' &&
    labels !== null &&
    Object.values(labels).every((v) => typeof v === 'string')
  );
}
