import type { Logger } from '../../shared/index.ts';
import type { AcceptedNotification, BridgeStore } from './store.ts';

/** Why a notification was not handed to the queue (metric `offhook_gateway_alertmanager_dropped_total{reason}`). */
export type DropReason = 'duplicate' | 'superseded';
export const DROP_REASONS = ['duplicate', 'superseded'] as const satisfies readonly DropReason[];

type Notified = Pick<AcceptedNotification, 'startsAt' | 'status'>;

/** Later firings come after earlier ones, and a firing's resolve after the firing. */
function order(a: Notified, b: Notified): number {
  if (a.startsAt !== b.startsAt) return a.startsAt - b.startsAt;
  return (a.status === 'resolved' ? 1 : 0) - (b.status === 'resolved' ? 1 : 0);
}

/**
 * The last notification handed over per alert, by the same (fingerprint, status, startsAt) the ALERTS message id is
 * made of: Alertmanager retries a failed POST, re-sends a whole group whenever one alert in it changes and again on
 * repeat_interval, and none of that may queue a second call. JetStream's own Nats-Msg-Id window (2 minutes) is too
 * short for those, and the intake starts an unanswered escalation again on a new message, so the bridge drops them.
 *
 * Kept in the gateway KV bucket (`alertmanager.accepted.<fp>`, one key per alert, so the bucket's 30-day TTL bounds
 * it), read on every notification, so a restarted gateway (or a second one on the same bucket) knows what was handed
 * over; a memory copy covers a KV write that failed after the alert was stored. Within `dedup_window` of being handed
 * over, the same notification is a duplicate; after it, Alertmanager's repeat_interval re-send goes through like the
 * collector's re-notify (an acknowledged firing still never rings again: the intake knows it). An older firing, or
 * the resolve of one, after a newer one was handed over is a late retry out of order: superseded, whenever it comes.
 */
export class AcceptedNotifications {
  private readonly memory = new Map<string, AcceptedNotification>();

  constructor(
    private readonly store: BridgeStore,
    private readonly windowMs: number,
    private readonly now: () => number,
    private readonly logger: Logger,
    private readonly maxEntries = 100_000,
  ) {}

  /** Why `notification` is dropped, or null to hand it over; throws when KV did not answer (the POST gets a 503). */
  async dropReason(fingerprint: string, notification: Notified): Promise<DropReason | null> {
    const stored = await this.store.loadAccepted(fingerprint);
    const remembered = this.memory.get(fingerprint);
    const last = stored && remembered ? (order(stored, remembered) >= 0 ? stored : remembered) : (stored ?? remembered);
    if (!last) return null;
    const compared = order(notification, last);
    if (compared < 0) return 'superseded';
    if (compared === 0 && this.now() - last.at < this.windowMs) return 'duplicate';
    return null;
  }

  /** Handed over: the record goes to KV, so a repeat is dropped after a restart too. */
  async accepted(fingerprint: string, notification: Notified): Promise<void> {
    const record: AcceptedNotification = { ...notification, at: this.now() };
    this.memory.delete(fingerprint);
    this.memory.set(fingerprint, record);
    // Insertion order is age order: the oldest go first.
    for (const key of this.memory.keys()) {
      if (this.memory.size <= this.maxEntries) break;
      this.memory.delete(key);
    }
    try {
      await this.store.saveAccepted(fingerprint, record);
    } catch (err) {
      // Safe to go on: the alert is on ALERTS, the 200 stops the retries, and memory drops repeats until a restart.
      this.logger.warn({ err, fingerprint }, 'cannot record a handed-over Alertmanager notification in KV');
    }
  }
}
