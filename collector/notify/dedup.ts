import type { Alert, Clock, Logger } from '../../shared/index.ts';
import type { NotificationMetrics } from './metrics.ts';
import { afterRequestsWritten } from './http-request.ts';
import { acceptanceId, idempotencyKey } from './idempotency.ts';
import { NotificationLog, type PendingNotification, type PendingOwner } from './nflog.ts';
import { fallbackReasonOf, type Notification, type NotifyStage } from './stage.ts';
import type { NotificationReason, SubmitContext } from './types.ts';

/**
 * Dedup against the notification log (nflog.ts) and what is in flight, and the hand-off: each notification gets its
 * log key and, beside its send, a `pending.<key>` entry (alert included); once that is written (`marked`) the caller
 * may forget it. A resolve goes only to receivers that were told the alert fired. Runs one notification after
 * another, in order.
 */
export class DedupStage implements NotifyStage {
  readonly name = 'dedup';
  /** Keys queued or being sent; a second submit of the same notification waits on the first. */
  readonly inFlight = new Set<string>();
  /** Each admitted key's pending entry: resolves true once written (or given up on), false if the gate closed. */
  readonly marks = new Map<string, Promise<boolean>>();
  /** Each admitted key's hand-off to its queue (handedOff), which its pending entry waits for. */
  private readonly handOffs = new Map<string, (queued: boolean) => void>();

  constructor(
    private readonly parts: {
      nflog: NotificationLog;
      metrics: NotificationMetrics;
      logger: Logger;
      clock: Clock;
      /** Written into each pending entry, so a collector group resumes only what no live member is still sending. */
      owner?: PendingOwner;
    },
  ) {}

  async run(items: Notification[]): Promise<Notification[]> {
    const out: Notification[] = [];
    for (const item of items) {
      const admitted = await this.admit(item);
      if (admitted !== null) out.push({ ...item, ...admitted });
    }
    return out;
  }

  /** Whether the log says `key` was delivered; an unreadable log says no (better a duplicate than silence). */
  async loggedAsSent(
    key: string,
    log: Logger,
    lookup = this.parts.nflog.wasSent(key),
    where: Record<string, string> = {},
  ): Promise<boolean> {
    try {
      return await lookup;
    } catch (err) {
      log.warn({ ...where, err, key }, 'notification log unreadable; sending without dedup');
      return false;
    }
  }

  private async admit(item: Notification): Promise<{ key: string; idempotencyKey: string } | null> {
    const { metrics, logger, nflog } = this.parts;
    const { alert, reason, context } = item;
    const name = item.receiver.config.name;
    const where = { fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule };
    // In-flight keys move to the log only after their write, so looking here before reading the
    // log (and not after) means a notification delivered meanwhile is seen in one or the other.
    const inFlightBefore = [...this.inFlight];
    let sent: string[] = [];
    let logRead = true;
    if (reason === 'repeat' || reason === 'resolved') {
      try {
        sent = await nflog.sentKinds(alert, name);
      } catch (err) {
        logRead = false;
        logger.warn({ ...where, err, receiver: name }, 'notification log unreadable; deciding without it');
      }
    }
    const known = [...sent, ...inFlightKinds(alert, name, inFlightBefore)];
    const key = NotificationLog.key(alert, name, what(reason, context, known));
    // Only a log that was read can say the firing was never told: unread (NATS restarting), a resolve the receiver may
    // be waiting for goes out, a duplicate rather than an alert left firing at the receiver for good.
    if (reason === 'resolved' && logRead && !known.some((kind) => kind !== 'resolved')) {
      logger.debug({ ...where, receiver: name }, 'resolve not sent: this receiver was never told the alert fired');
      return null;
    }
    if (this.inFlight.has(key)) {
      metrics.deduplicated.inc({ receiver: name });
      return null;
    }
    // Asked first, and the rest built while it is out: its request leaves with the engine's record put (issue #17).
    const lookup = nflog.wasSent(key);
    const fallbackReason = fallbackReasonOf(item);
    const why = fallbackReason ? { fallbackReason } : {};
    const owner = this.parts.owner ?? {};
    const acceptedAt = this.parts.clock.now();
    const id = acceptanceId();
    const accepted = { receiver: name, reason, alert, acceptedAt, id, group: item.group };
    // The group rides in the pending entry: grouping happens after this hand-off, so a resumed alert keeps its group.
    const pending = { ...accepted, ...why, ...owner };
    // Only the lookup is awaited here; with the engine's gate it runs beside the record's write (one round trip for
    // both). Two admissions of one key cannot both pass: the first is in flight before the next one reads.
    if (await this.loggedAsSent(key, logger, lookup, where)) {
      metrics.deduplicated.inc({ receiver: name });
      return null;
    }
    this.inFlight.add(key);
    const queued = new Promise<boolean>((resolve) => this.handOffs.set(key, resolve));
    this.marks.set(key, this.mark(key, pending, queued, where));
    return { key, idempotencyKey: idempotencyKey(key, id, acceptedAt) };
  }

  /**
   * The notification `key` is in its receiver's queue (its send under way when it could go at once), or, `queued`
   * false, will not be (its gate closed): its pending entry is written now, or never.
   */
  handedOff(key: string, queued: boolean): void {
    this.handOffs.get(key)?.(queued);
    this.handOffs.delete(key);
  }

  /**
   * The pending entry, written once the notification is queued (past its gate), after its send started. A crash
   * before it is written loses nothing: the submitter still holds its copy until submit() resolves (the engine's
   * outbox is cleared, the gateway's fallback request acknowledged, only then), redoes it, and the log, not yet saying
   * "sent", lets it go again. Never before the gate: a pending entry of a record that never reached KV would be
   * resumed after a crash and tell a transition KV does not show; replaying EVENTS recomputes one an event caused,
   * not one of a timer, a silence or a lost host.
   */
  private async mark(
    key: string,
    pending: PendingNotification,
    queued: Promise<boolean>,
    where: Record<string, string>,
  ) {
    if (!(await queued)) return false;
    await afterRequestsWritten();
    try {
      await this.parts.nflog.markPending(key, pending);
    } catch (err) {
      const message = 'could not log the pending notification; sending it anyway (a crash now would lose it)';
      this.parts.logger.warn({ ...where, err, receiver: pending.receiver }, message);
    }
    return true;
  }

  /** Resolves once `key`'s pending entry is written (or will not be), and forgets it: call when it is settled. */
  async marked(key: string): Promise<boolean> {
    const mark = this.marks.get(key);
    this.marks.delete(key);
    return (await mark) ?? false;
  }
}

function inFlightKinds(alert: Alert, receiver: string, keys: string[]): string[] {
  const prefix = NotificationLog.key(alert, receiver, '');
  return keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
}

/** The <what> part of the log key; `known` is what was sent or is in flight for this generation and receiver. */
function what(reason: NotificationReason, context: SubmitContext, known: string[]): string {
  if (reason === 'fallback')
    return `fallback-${(context.fallbackReason ?? 'unspecified').replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (reason !== 'repeat') return reason;
  if (context.repeat !== undefined) return `repeat-${context.repeat}`;
  const highest = known.reduce((max, kind) => Math.max(max, Number(/^repeat-(\d+)$/.exec(kind)?.[1] ?? 0)), 0);
  return `repeat-${highest + 1}`;
}
