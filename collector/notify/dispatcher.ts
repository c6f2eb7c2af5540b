import { isCanary, type Alert, type Clock, type Logger } from '../../shared/index.ts';
import type { ReceiverConfig } from './config.ts';
import type { NotificationMetrics } from './metrics.ts';
import { NotificationLog, type PendingNotification, type PendingOwner } from './nflog.ts';
import type { ReceiverQueue, QueueItem } from './queue.ts';
import type { RouteTarget } from './route.ts';
import type { NotificationReason, NotificationSink, SubmitContext } from './types.ts';

export interface DispatcherParts {
  receivers: Map<string, { config: ReceiverConfig; queue: ReceiverQueue }>;
  route: (alert: Alert, reason: NotificationReason) => RouteTarget[];
  fallbackReceivers: string[];
  nflog: NotificationLog;
  metrics: NotificationMetrics;
  logger: Logger;
  clock: Clock;
  /** Written into each pending entry, so a collector group resumes only what no live member is still sending. */
  owner?: PendingOwner;
}

/**
 * Admission: route → suppress (inhibited, acknowledged repeats, resolved never announced) →
 * dedup against the notification log and what is in flight → the receiver's queue.
 * Submissions are admitted one at a time, in order, so a firing is queued before its resolve.
 */
export class Dispatcher implements NotificationSink {
  private admission: Promise<void> = Promise.resolve();
  /** Keys queued or being sent; a second submit of the same notification waits on the first. */
  private readonly inFlight = new Set<string>();
  private closed = false;

  constructor(private readonly parts: DispatcherParts) {}

  submit(alert: Alert, reason: NotificationReason, context: SubmitContext = {}): Promise<void> {
    // The watchdog canary only proves the path to the gateway; it must never reach a person by mail, IRC or webhook.
    if (isCanary(alert)) {
      this.parts.metrics.dropped.inc({ receiver: '', reason: 'watchdog_canary' });
      return Promise.resolve();
    }
    if (this.closed) {
      this.parts.metrics.dropped.inc({ receiver: '', reason: 'shutdown' });
      this.parts.logger.warn({ fingerprint: alert.fingerprint, reason }, 'notification submitted after close; dropped');
      return Promise.resolve();
    }
    const admitted = this.admission
      .then(() => this.admit(alert, reason, context))
      .catch((err: Error) =>
        this.parts.logger.error(
          { err, fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule },
          'notification admission failed',
        ),
      );
    this.admission = admitted;
    return admitted;
  }

  /**
   * Re-queues what an earlier run (or a dead member) accepted but did not deliver; `select` picks which pending
   * entries are this run's to resume (a collector group: those of partitions it holds, from no live member).
   * Runs in the admission order, so a submission of the same notification is either in flight here or sees it is.
   */
  resumePending(select: (pending: PendingNotification) => boolean = () => true): Promise<number> {
    const run = this.admission.then(() => this.resume(select));
    this.admission = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async resume(select: (pending: PendingNotification) => boolean): Promise<number> {
    const { nflog, logger, owner } = this.parts;
    let resumed = 0;
    for (const { key, notification } of await nflog.pending()) {
      if (this.inFlight.has(key) || (notification && !select(notification))) continue;
      const receiver = notification && this.parts.receivers.get(notification.receiver);
      if (!notification || !receiver || (await this.loggedAsSent(key, logger))) {
        if (!notification) logger.warn({ key }, 'unreadable pending notification in the notification log; cleared');
        else if (!receiver)
          logger.warn(
            { key, receiver: notification.receiver },
            'pending notification for a receiver no longer configured; cleared',
          );
        await nflog.clearPending(key).catch((err: unknown) => {
          logger.warn({ err, key }, 'cannot clear a pending notification; it is looked at again at the next start');
        });
        continue;
      }
      if (owner && (notification.member !== owner.member || notification.run !== owner.run)) {
        // Ours now: another member resuming it later (this one gone) must see who was sending it.
        await nflog.markPending(key, { ...notification, ...owner }).catch((err: Error) => {
          const message = 'could not mark a resumed notification as ours; a later takeover may send it again';
          logger.warn({ err, key }, message);
        });
      }
      this.inFlight.add(key);
      // At-least-once: a stop between the receiver's answer and the "sent" record re-sends this one.
      logger.info(
        { key, fingerprint: notification.alert.fingerprint, receiver: notification.receiver },
        'resuming a notification accepted before the last stop',
      );
      const { fallbackReason } = notification;
      const why = fallbackReason ? { fallbackReason } : {};
      receiver.queue.enqueue({ alert: notification.alert, reason: notification.reason, key, ...why });
      resumed++;
    }
    if (resumed > 0) logger.info({ resumed }, 'resuming notifications accepted before the last stop');
    return resumed;
  }

  /** Resolves once every submission so far is admitted and every queue is empty. */
  async idle(): Promise<void> {
    await this.admission;
    await Promise.all([...this.parts.receivers.values()].map(({ queue }) => queue.idle()));
  }

  /**
   * Stops taking submissions, gives queued notifications up to `graceMs` (real time: this bounds a
   * shutdown, it is not alert logic) to go out, then aborts what is left (logged and counted).
   */
  async close(graceMs = 5000): Promise<void> {
    this.closed = true;
    await this.admission;
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.idle().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!drained) this.parts.logger.warn({ graceMs }, 'notifications still pending at shutdown; aborting them');
    await Promise.all([...this.parts.receivers.values()].map(({ queue }) => queue.close()));
  }

  /** Marks delivered items in the notification log; a log write failure is logged, the send stands. */
  async delivered(receiver: string, items: QueueItem[], attempts: number): Promise<void> {
    const sentAt = this.parts.clock.now();
    for (const item of items) {
      try {
        await this.parts.nflog.record(item.key, { sentAt, receiver, reason: item.reason, attempts });
      } catch (err) {
        this.parts.logger.error(
          { err, fingerprint: item.alert.fingerprint, key: item.key },
          'could not write the notification log; a restart may re-send this',
        );
      }
      await this.parts.nflog
        .clearPending(item.key)
        .catch((err: Error) =>
          this.parts.logger.warn({ err, key: item.key }, 'could not clear a pending notification'),
        );
      this.inFlight.delete(item.key);
    }
  }

  undelivered(items: QueueItem[], why: 'failed' | 'queue_full' | 'shutdown'): void {
    for (const item of items) {
      this.inFlight.delete(item.key);
      // Given up for good; a shutdown keeps it pending so the next run sends it.
      if (why !== 'shutdown')
        void this.parts.nflog
          .clearPending(item.key)
          .catch((err: Error) =>
            this.parts.logger.warn({ err, key: item.key }, 'could not clear a pending notification'),
          );
    }
  }

  private targets(alert: Alert, reason: NotificationReason): RouteTarget[] {
    if (reason === 'fallback')
      return this.parts.fallbackReceivers.map((receiver) => ({ receiver, sendResolved: true }));
    const routed = this.parts.route(alert, reason);
    // A resolve also goes to fallback receivers that were told about the problem (checked below).
    if (reason === 'resolved')
      for (const receiver of this.parts.fallbackReceivers)
        if (!routed.some((t) => t.receiver === receiver)) routed.push({ receiver, sendResolved: true });
    return routed;
  }

  private async admit(alert: Alert, reason: NotificationReason, context: SubmitContext): Promise<void> {
    const { metrics, logger, nflog } = this.parts;
    const log = logger.child({ fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule });
    for (const target of this.targets(alert, reason)) {
      const receiver = this.parts.receivers.get(target.receiver);
      if (!receiver) {
        metrics.dropped.inc({ receiver: target.receiver, reason: 'unknown_receiver' });
        continue;
      }
      const name = receiver.config.name;
      if (reason === 'resolved' && !(target.sendResolved ?? receiver.config.send_resolved)) continue;
      if (alert.inhibited && reason !== 'resolved' && reason !== 'fallback') {
        metrics.dropped.inc({ receiver: name, reason: 'inhibited' });
        continue;
      }
      if (reason === 'repeat' && alert.acknowledged) {
        metrics.dropped.inc({ receiver: name, reason: 'acknowledged' });
        continue;
      }
      // In-flight keys move to the log only after their write, so looking here before reading the
      // log (and not after) means a notification delivered meanwhile is seen in one or the other.
      const inFlightBefore = [...this.inFlight];
      let sent: string[] = [];
      if (reason === 'repeat' || reason === 'resolved') {
        try {
          sent = await nflog.sentKinds(alert, name);
        } catch (err) {
          log.warn({ err, receiver: name }, 'notification log unreadable; deciding without it');
        }
      }
      const known = [...sent, ...this.inFlightKinds(alert, name, inFlightBefore)];
      const what = this.what(reason, context, known);
      const key = NotificationLog.key(alert, name, what);
      if (reason === 'resolved' && !known.some((kind) => kind !== 'resolved')) {
        log.debug({ receiver: name }, 'resolve not sent: this receiver was never told the alert fired');
        continue;
      }
      if (this.inFlight.has(key)) {
        metrics.deduplicated.inc({ receiver: name });
        continue;
      }
      const fallbackReason = reason === 'fallback' ? (context.fallbackReason ?? 'unspecified') : undefined;
      const why = fallbackReason ? { fallbackReason } : {};
      const owner = this.parts.owner ?? {};
      const pending = { receiver: name, reason, alert, acceptedAt: this.parts.clock.now(), ...why, ...owner };
      // The dedup lookup and the pending entry go side by side (one round trip, not two). A pending entry for a key
      // already sent is harmless: it is cleared right below, and resumePending clears it too if we stop before that.
      const [alreadySent, marked] = await Promise.all([
        this.loggedAsSent(key, log),
        nflog.markPending(key, pending).then(
          () => true,
          (err: unknown) => {
            const message = 'could not log the pending notification; sending it anyway (a crash now would lose it)';
            log.warn({ err, receiver: name }, message);
            return false;
          },
        ),
      ]);
      if (alreadySent) {
        metrics.deduplicated.inc({ receiver: name });
        const cleared = marked ? nflog.clearPending(key) : Promise.resolve();
        await cleared.catch((err: Error) => log.warn({ err, key }, 'could not clear a pending notification'));
        continue;
      }
      this.inFlight.add(key);
      receiver.queue.enqueue({ alert, reason, key, ...(fallbackReason ? { fallbackReason } : {}) });
    }
  }

  private inFlightKinds(alert: Alert, receiver: string, keys: string[]): string[] {
    const prefix = NotificationLog.key(alert, receiver, '');
    return keys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** The <what> part of the log key; `known` is what was sent or is in flight for this generation and receiver. */
  private what(reason: NotificationReason, context: SubmitContext, known: string[]): string {
    if (reason === 'fallback')
      return `fallback-${(context.fallbackReason ?? 'unspecified').replace(/[^A-Za-z0-9_-]/g, '_')}`;
    if (reason !== 'repeat') return reason;
    if (context.repeat !== undefined) return `repeat-${context.repeat}`;
    const highest = known.reduce((max, kind) => Math.max(max, Number(/^repeat-(\d+)$/.exec(kind)?.[1] ?? 0)), 0);
    return `repeat-${highest + 1}`;
  }

  private async loggedAsSent(key: string, log: Logger): Promise<boolean> {
    try {
      return await this.parts.nflog.wasSent(key);
    } catch (err) {
      // Better a duplicate than silence: an unreadable log must not stop a notification.
      log.warn({ err, key }, 'notification log unreadable; sending without dedup');
      return false;
    }
  }
}
