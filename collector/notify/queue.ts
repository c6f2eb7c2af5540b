import type { Alert, Clock, Logger } from '../../shared/index.ts';
import type { ReceiverConfig } from './config.ts';
import type { NotificationMetrics } from './metrics.ts';
import { GroupIntervals } from './group-interval.ts';
import { RateLimiter } from './rate-limit.ts';
import { deliverWithRetry, sleep } from './retry.ts';
import type { NotificationBatch, NotificationGroup, NotificationReason, Notifier } from './types.ts';

export interface QueueItem {
  alert: Alert;
  reason: NotificationReason;
  /** Notification-log key, recorded once this item is delivered. */
  key: string;
  /** Told to the receiver (idempotency.ts): the same on a resend from the pending log. */
  idempotencyKey?: string;
  /** For reason 'fallback': why the gateway did not phone; only items with the same one share a batch. */
  fallbackReason?: string;
  /** Its aggregation group; only items of the same group share a batch (absent: entries of older versions). */
  group?: NotificationGroup;
  heldByRateLimit?: boolean;
  /** Its alert resolved meanwhile and the receiver is not told (no send_resolved): not kept as part of its group. */
  resolvedUntold?: boolean;
}

export interface ReceiverQueueOptions {
  receiver: ReceiverConfig;
  notifier: Notifier;
  externalUrl: string;
  clock: Clock;
  metrics: NotificationMetrics;
  logger: Logger;
  onDelivered(items: QueueItem[], attempts: number): Promise<void>;
  /** `shutdown` items stay pending in the notification log, to be resumed after a restart. */
  onUndelivered(items: QueueItem[], why: 'failed' | 'queue_full' | 'shutdown'): void;
}

/**
 * One receiver's queue and worker: rate limit, coalescing, timeout and retry. Every receiver has
 * its own, so a slow or dead receiver only ever delays itself.
 */
export class ReceiverQueue {
  private pending: QueueItem[] = [];
  /** When each waiting group (group_wait) may go; set by its first queued alert, cleared when its batch is taken. */
  private readonly groupReadyAt = new Map<string, number>();
  /** group_interval: when notified groups may go again, and the rest of each group a notification carries. */
  readonly intervals = new GroupIntervals();
  /**
   * Set while the worker waits for a group; enqueue aborts it, so the worker wakes when an alert that may go at once
   * arrives. Only then: an abort builds a DOMException (a stack capture), ~10 % of an idle collector's time from the
   * alert record's write to the webhook POST when it was aborted on every enqueue.
   */
  private wake: AbortController | null = null;
  private running: Promise<void> | null = null;
  private readonly closing = new AbortController();
  private readonly limiter: RateLimiter;
  private readonly labels: { receiver: string; kind: string };
  // A burst meets the limit once per alert; people need one line per window, not one per alert.
  private holdLoggedAt = Number.NEGATIVE_INFINITY;
  private heldSinceLog = 0;

  constructor(private readonly options: ReceiverQueueOptions) {
    const { rate_limit: limit, name, kind } = options.receiver;
    this.limiter = new RateLimiter(limit.max, limit.per, options.clock);
    this.labels = { receiver: name, kind };
    options.metrics.queueDepth.set({ receiver: name }, 0);
    for (const outcome of ['sent', 'failed']) options.metrics.notifications.inc({ ...this.labels, outcome }, 0);
  }

  get depth(): number {
    return this.pending.length;
  }

  enqueue(item: QueueItem): void {
    const { receiver, metrics, logger } = this.options;
    if (this.closing.signal.aborted) {
      this.drop([item], 'shutdown');
      return;
    }
    if (this.pending.length >= receiver.max_queue) {
      const oldest = this.pending.shift()!;
      this.drop([oldest], 'queue_full');
      logger.error(
        { fingerprint: oldest.alert.fingerprint, maxQueue: receiver.max_queue },
        'notification queue full: dropped the oldest alert (raise max_queue or fix the receiver)',
      );
    }
    this.pending.push(item);
    const wait = item.group?.wait ?? 0;
    const now = this.options.clock.now();
    // Alertmanager's rule: an alert that started group_wait ago already (a resumed one, say) ends the wait at once.
    const readyAt = item.alert.startsAt + wait < now ? now : now + wait;
    const key = item.group?.key ?? '';
    // A group notified before goes on its group_interval grid instead (Alertmanager's later flushes).
    const nextFlush = this.intervals.readyAt(item.group, now);
    if (nextFlush !== undefined)
      this.groupReadyAt.set(key, Math.min(this.groupReadyAt.get(key) ?? nextFlush, nextFlush));
    else if (wait > 0) this.groupReadyAt.set(key, Math.min(this.groupReadyAt.get(key) ?? readyAt, readyAt));
    this.wake?.abort();
    this.wake = null;
    metrics.queueDepth.set({ receiver: receiver.name }, this.pending.length);
    const waitMs = this.limiter.waitMs();
    if (waitMs > 0) this.hold(waitMs);
    this.kick();
  }

  /**
   * A resolve this receiver is not sent (no send_resolved): Alertmanager takes the alert out of its group, so later
   * notifications of the group leave it out, also when its firing is still queued here.
   */
  forget(group: NotificationGroup, alert: Alert): void {
    this.intervals.forget(group, alert.fingerprint);
    for (const item of this.pending)
      if (item.alert.fingerprint === alert.fingerprint && item.alert.generation <= alert.generation)
        item.resolvedUntold = true;
  }

  /** Resolves once nothing is queued or being sent. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
    if (this.pending.length > 0) {
      this.options.logger.warn({ undelivered: this.pending.length }, 'closing with undelivered notifications');
      this.drop(this.pending.splice(0), 'shutdown');
    }
  }

  private drop(items: QueueItem[], reason: 'queue_full' | 'shutdown'): void {
    this.options.metrics.dropped.inc({ receiver: this.options.receiver.name, reason }, items.length);
    this.options.onUndelivered(items, reason);
    this.options.metrics.queueDepth.set({ receiver: this.options.receiver.name }, this.pending.length);
  }

  /** Counts (once each) the alerts the rate limit holds back; they stay queued and go out coalesced. */
  private hold(waitMs: number): void {
    const { metrics, logger, receiver } = this.options;
    const held = this.pending.filter((item) => !item.heldByRateLimit);
    if (held.length === 0) return;
    for (const item of held) item.heldByRateLimit = true;
    metrics.rateLimited.inc({ receiver: receiver.name }, held.length);
    this.heldSinceLog += held.length;
    const now = this.options.clock.now();
    if (now - this.holdLoggedAt < receiver.rate_limit.per) return;
    logger.warn(
      { held: this.heldSinceLog, waiting: this.pending.length, waitMs, limit: receiver.rate_limit },
      'rate limit reached: alerts wait and go out coalesced',
    );
    this.holdLoggedAt = now;
    this.heldSinceLog = 0;
  }

  /** Alerts held after the window's one warning are told once, when they are about to go out. */
  private logHeldSinceWarning(): void {
    if (this.heldSinceLog === 0) return;
    this.options.logger.warn(
      { held: this.heldSinceLog, limit: this.options.receiver.rate_limit },
      'rate limit: more alerts were held in this window and go out coalesced',
    );
    this.heldSinceLog = 0;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain()
      .catch((err: Error) => this.options.logger.error({ err }, 'notification worker failed'))
      .finally(() => {
        this.running = null;
        if (this.pending.length > 0 && !this.closing.signal.aborted) this.kick();
      });
  }

  private async drain(): Promise<void> {
    const { clock, metrics, receiver } = this.options;
    while (this.pending.length > 0 && !this.closing.signal.aborted) {
      const waitMs = this.limiter.waitMs();
      if (waitMs > 0) {
        this.hold(waitMs);
        await sleep(clock, waitMs, this.closing.signal);
        continue;
      }
      const now = clock.now();
      const head = this.pending.findIndex((item) => (this.groupReadyAt.get(item.group?.key ?? '') ?? 0) <= now);
      if (head < 0) {
        // Every queued alert waits for its group (group_wait); they are pending in KV, so a crash loses none.
        const next = Math.min(...this.pending.map((item) => this.groupReadyAt.get(item.group?.key ?? '') ?? now));
        const wake = new AbortController();
        this.wake = wake;
        await sleep(clock, next - now, AbortSignal.any([this.closing.signal, wake.signal]));
        if (this.wake === wake) this.wake = null;
        continue;
      }
      this.logHeldSinceWarning();
      const items = this.takeBatch(head);
      metrics.queueDepth.set({ receiver: receiver.name }, this.pending.length);
      this.limiter.record();
      await this.send(items);
    }
  }

  /**
   * The head item's group and reason decide the batch; every queued item with both the same joins it (up to max_batch),
   * unless an earlier item of the same alert stays behind: an alert's notifications never overtake each other.
   */
  private takeBatch(head: number): QueueItem[] {
    const { reason, fallbackReason, group } = this.pending[head]!;
    if (group) this.groupReadyAt.delete(group.key);
    this.intervals.flushed(group, this.options.clock.now());
    const batch: QueueItem[] = [];
    const rest: QueueItem[] = [];
    // With group_interval a notification is the whole group: firing and resolved alerts go together.
    const whole = this.intervals.wholeGroup(group) && (reason === 'firing' || reason === 'resolved');
    const sameReason = (r: NotificationReason): boolean =>
      r === reason || (whole && (r === 'firing' || r === 'resolved'));
    const same = (item: QueueItem): boolean =>
      sameReason(item.reason) && item.fallbackReason === fallbackReason && item.group?.key === group?.key;
    for (const item of this.pending) {
      const fits = batch.length < this.options.receiver.max_batch;
      const overtakes = rest.some((r) => r.alert.fingerprint === item.alert.fingerprint);
      (same(item) && fits && !overtakes ? batch : rest).push(item);
    }
    this.pending = rest;
    return batch;
  }

  private async send(items: QueueItem[]): Promise<void> {
    const { receiver, notifier, clock, metrics, logger } = this.options;
    const group = items[0]!.group;
    const changed = items.map((item) => item.alert);
    const alerts = this.intervals.payload(group, changed);
    const keys = items.map((item) => item.idempotencyKey).filter((k) => k !== undefined);
    const firing = alerts.some((a) => a.status === 'firing');
    // A whole-group batch mixing firing and resolved alerts is a firing notification, as its status says.
    const mixed = this.intervals.wholeGroup(group) && items.some((item) => item.reason !== items[0]!.reason);
    const batch: NotificationBatch = {
      receiver: receiver.name,
      reason: mixed ? (firing ? 'firing' : 'resolved') : items[0]!.reason,
      status: firing ? 'firing' : 'resolved',
      alerts,
      externalUrl: this.options.externalUrl,
      ...(items[0]!.fallbackReason ? { fallbackReason: items[0]!.fallbackReason } : {}),
      ...(items[0]!.group ? { group: items[0]!.group } : {}),
      // Keys pair with alerts by position; the group's context alerts (already logged as sent) have none.
      ...(keys.length === items.length && alerts === changed ? { idempotencyKeys: keys } : {}),
    };
    const fingerprints = changed.map((a) => a.fingerprint);
    const result = await deliverWithRetry(notifier, batch, {
      policy: {
        maxAttempts: receiver.retry.max_attempts,
        initialBackoffMs: receiver.retry.initial_backoff,
        maxBackoffMs: receiver.retry.max_backoff,
      },
      timeoutMs: receiver.timeout,
      clock,
      cancel: this.closing.signal,
      onAttempt: (outcome, seconds, error) => {
        metrics.attempts.inc({ ...this.labels, outcome });
        metrics.duration.observe(this.labels, seconds);
        if (error) logger.warn({ fingerprints, outcome, error }, 'notification attempt failed');
      },
    });
    if (result.outcome.ok) {
      metrics.notifications.inc({ ...this.labels, outcome: 'sent' });
      logger.info({ fingerprints, reason: batch.reason, attempts: result.attempts }, 'notification sent');
      this.intervals.delivered(
        group,
        items.filter((item) => !item.resolvedUntold).map((item) => item.alert),
      );
      await this.options.onDelivered(items, result.attempts);
    } else {
      metrics.notifications.inc({ ...this.labels, outcome: 'failed' });
      logger.error(
        {
          fingerprints,
          reason: batch.reason,
          attempts: result.attempts,
          error: result.outcome.error,
          retryable: result.outcome.retry,
        },
        'notification failed',
      );
      // A group whose first notification failed has told the receiver nothing: its next alert waits group_wait.
      this.intervals.delivered(group, []);
      this.options.onUndelivered(items, this.closing.signal.aborted ? 'shutdown' : 'failed');
    }
  }
}
