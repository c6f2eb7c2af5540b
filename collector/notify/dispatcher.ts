import { isCanary, type Alert, type Clock, type Logger } from '../../shared/index.ts';
import type { ReceiverConfig } from './config.ts';
import { DedupStage } from './dedup.ts';
import { groupStage } from './group-stage.ts';
import type { NotificationMetrics } from './metrics.ts';
import { idempotencyKey } from './idempotency.ts';
import { muteStage } from './mute-stage.ts';
import type { NotificationLog, PendingNotification, PendingOwner } from './nflog.ts';
import type { QueueItem, ReceiverQueue } from './queue.ts';
import { routeStage, type RouteTarget } from './route.ts';
import { fallbackReasonOf, runStages, type Notification, type NotifyStage, type Submission } from './stage.ts';
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
 * The notification pipeline, Alertmanager's order: route (a notification per receiver) → mute → group → dedup
 * against the notification log, with the pending hand-off → each receiver's queue (rate limit → retry → send).
 * Each stage is its own module (stage.ts has the interface); grouping is where issue #18 plugs in.
 */
export function createStages(parts: DispatcherParts): {
  route: (submission: Submission) => Notification[];
  stages: NotifyStage[];
  dedup: DedupStage;
} {
  const { receivers, fallbackReceivers, metrics, clock, nflog, logger, owner } = parts;
  const dedup = new DedupStage({ nflog, metrics, logger, clock, ...(owner ? { owner } : {}) });
  return {
    route: routeStage({ route: parts.route, fallbackReceivers, receivers, metrics }),
    stages: [muteStage({ metrics, clock }), groupStage(), dedup],
    dedup,
  };
}

/**
 * Takes submissions one at a time, in order, through the pipeline (createStages), so a firing is queued before its
 * resolve; resumes what an earlier run accepted; marks deliveries in the notification log.
 */
export class Dispatcher implements NotificationSink {
  private admission: Promise<void> = Promise.resolve();
  /** Admissions (and resumes) begun and not yet settled; none: the next submission is admitted at once (submit). */
  private admitting = 0;
  private closed = false;
  private readonly pipeline: ReturnType<typeof createStages>;
  /** Keys queued or being sent (the dedup stage's): a second submit of the same notification waits on the first. */
  private readonly inFlight: Set<string>;
  /** Hand-offs waiting for their gate (the record's write), so idle() waits for them too. */
  private readonly gated = new Set<Promise<void>>();

  constructor(private readonly parts: DispatcherParts) {
    this.pipeline = createStages(parts);
    this.inFlight = this.pipeline.dedup.inFlight;
  }

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
    const where = { fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule };
    const accepted: Promise<unknown>[] = [];
    const admit = (): Promise<void> => this.admit(alert, reason, context, accepted);
    // With nothing ahead of it, admitted now rather than a microtask later: its log lookup is then on the wire before
    // this returns, so it leaves in one write with the engine's record put that follows (issue #17). Put first and
    // looked up after the admission's stages, the lookup went out 0.6-2 ms later, and its answer decided the POST.
    const admitted = this.chained(this.admitting === 0 ? admit() : this.admission.then(admit)).catch((err: Error) =>
      this.parts.logger.error({ err, ...where }, 'notification admission failed'),
    );
    // The next submission is admitted once this one is (the lookup), not once its gate opens and its entry is written.
    this.admission = admitted;
    return admitted.then(() => Promise.all(accepted)).then(() => undefined);
  }

  /** Counts `run` among the admissions under way until it settles. */
  private chained<T>(run: Promise<T>): Promise<T> {
    this.admitting++;
    return run.finally(() => this.admitting--);
  }

  /**
   * Re-queues what an earlier run (or a dead member) accepted but did not deliver; `select` picks which pending
   * entries are this run's to resume (a collector group: those of partitions it holds, from no live member).
   * Runs in the admission order, so a submission of the same notification is either in flight here or sees it is.
   */
  resumePending(select: (pending: PendingNotification) => boolean = () => true): Promise<number> {
    const run = this.chained(this.admission.then(() => this.resume(select)));
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
      if (!notification || !receiver || (await this.pipeline.dedup.loggedAsSent(key, logger))) {
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
      const { fallbackReason, group } = notification;
      const why = { ...(fallbackReason ? { fallbackReason } : {}), ...(group ? { group } : {}) };
      // The key the first send carried, so a receiver that honours it sees this resend as the same notification.
      const idempotent = idempotencyKey(key, notification.id, notification.acceptedAt);
      const { alert, reason } = notification;
      receiver.queue.enqueue({ alert, reason, key, idempotencyKey: idempotent, ...why });
      resumed++;
    }
    if (resumed > 0) logger.info({ resumed }, 'resuming notifications accepted before the last stop');
    return resumed;
  }

  /** Resolves once every submission so far is admitted, past its gate, and every queue is empty. */
  async idle(): Promise<void> {
    await this.admission;
    await Promise.all(this.gated);
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
      // The pending entry goes beside the send: cleared before it lands, it would stay behind.
      await this.pipeline.dedup.marked(item.key);
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
      const marked = this.pipeline.dedup.marked(item.key);
      if (why !== 'shutdown')
        void marked
          .then(() => this.parts.nflog.clearPending(item.key))
          .catch((err: Error) =>
            this.parts.logger.warn({ err, key: item.key }, 'could not clear a pending notification'),
          );
    }
  }

  private async admit(
    alert: Alert,
    reason: NotificationReason,
    context: SubmitContext,
    accepted: Promise<unknown>[],
  ): Promise<void> {
    const { route, stages } = this.pipeline;
    await runStages(stages, route({ alert, reason, context }), (items) => this.handOff(items, accepted));
  }

  /**
   * The end of the pipeline: each notification into its receiver's queue (rate limit → retry → send), once its gate
   * is open; `accepted` gets what submit() waits for (the pending entries).
   */
  private handOff(items: Notification[], accepted: Promise<unknown>[] = []): void {
    for (const item of items) {
      if (item.key === undefined) {
        // Only a pipeline without its dedup stage gets here: without a log key nothing could be marked as sent.
        this.parts.metrics.dropped.inc({ receiver: item.receiver.config.name, reason: 'no_log_key' });
        this.parts.logger.error({ fingerprint: item.alert.fingerprint }, 'notification without a log key; dropped');
        continue;
      }
      const fallbackReason = fallbackReasonOf(item);
      const why = fallbackReason ? { fallbackReason } : {};
      const idempotent = item.idempotencyKey ? { idempotencyKey: item.idempotencyKey } : {};
      const { alert, reason, key, group } = item;
      const queued = { alert, reason, key, group, ...idempotent, ...why };
      const mark = this.pipeline.dedup.marks.get(key);
      if (mark) accepted.push(mark);
      const gate = item.context.gate;
      if (!gate) {
        try {
          item.receiver.queue.enqueue(queued);
        } finally {
          this.pipeline.dedup.handedOff(key, true);
        }
        continue;
      }
      // Not sent before its record is in KV; closed (fenced off): the member that takes over redoes the outbox.
      // Queued (and sent, when it may go at once) before its pending entry is written: that is not on the way.
      const pass = (open: boolean): void => {
        try {
          if (open) item.receiver.queue.enqueue(queued);
          else this.inFlight.delete(key);
        } finally {
          this.pipeline.dedup.handedOff(key, open);
        }
        if (!open) void this.pipeline.dedup.marked(key);
      };
      // One reaction on the gate itself (not on a promise derived from it): the submitter, awaiting the gate right
      // after opening it, then comes after this hand-off.
      const passed = gate
        .then(pass, (err: unknown) => {
          this.parts.logger.error({ err, key }, 'notification gate failed; not sent');
          pass(false);
        })
        .catch((err: Error) => this.parts.logger.error({ err, key }, 'notification hand-off failed'))
        .finally(() => this.gated.delete(passed));
      this.gated.add(passed);
    }
  }
}
