import type { JetStreamClient } from '@nats-io/jetstream';
import { publishDurable, type Clock, type Logger, type Subjects } from '../../shared/index.ts';
import type { AlertRecord, OutboxEntry } from './alert-record.ts';
import type { AlertStore } from './alert-store.ts';
import type { EngineOutput } from './engine.ts';
import type { CollectorMetrics } from '../metrics.ts';
import { afterRequestsWritten } from '../notify/http-request.ts';
import type { NotificationSink } from '../notify/index.ts';

const RECENT = 100;

export interface RecentNotification {
  at: number;
  reason: OutboxEntry['reason'];
  published: boolean;
  fingerprint: string;
  host: string;
  rule: string;
  severity: string;
  status: string;
  generation: number;
  summary: string;
}

/**
 * Performs the engine's commits in order: write the record (with its outbox) to KV while the notifiers admit its
 * entries, then publish each transition to ALERTS while the notifiers send, then clear the outbox.
 * A crash anywhere in between leaves the outbox in KV, and start() redoes it.
 */
export class CommitQueue implements EngineOutput {
  private chain: Promise<void> = Promise.resolve();
  readonly recent: RecentNotification[] = [];

  constructor(
    private readonly parts: {
      store: AlertStore;
      js: JetStreamClient;
      subjects: Subjects;
      sink: NotificationSink;
      logger: Logger;
      metrics: CollectorMetrics;
      clock: Clock;
      /**
       * A collector group's partition lease: false once another member owns it, and then nothing is written or told.
       */
      fence?: () => Promise<boolean>;
    },
  ) {}

  commit(record: AlertRecord): void {
    this.chain = this.chain.then(() => this.perform(record));
  }

  /** Resolves when everything committed so far is persisted and announced. */
  idle(): Promise<void> {
    return this.chain;
  }

  /**
   * The record's write and the notifiers' admission (their log lookup) run side by side; nothing is told before the
   * write is done: the notifiers wait on `gate`, ALERTS is published after it (the gateway phones from ALERTS and a
   * call is not deduplicated by a person's phone). A crash at each point:
   * - before the write lands: nothing was sent, no pending entry written (the dispatcher writes it once the gate
   *   opens), only the log read. KV holds the older record, and the checkpoint does not cover the event (it is saved
   *   only after idle(), i.e. after this write), so EVENTS replay recomputes what an event caused; a transition of a
   *   timer, a silence or a lost host may not recur, and then nobody heard of it either.
   * - written, while sending or before the dispatcher's pending entry lands: the outbox is in KV and start() redoes it
   *   (ALERTS drops the duplicate by message id; the log does not say "sent" yet, so the receiver may hear it twice).
   * - pending entry written, outbox not yet cleared: the resumed notification is in flight when the redo comes.
   * - outbox cleared: the pending entry alone carries it (resumePending) until the log says "sent".
   * - fenced off after the write: the gate closes, nothing is told here; the member that took over redoes the outbox.
   */
  private async perform(record: AlertRecord): Promise<void> {
    // Made when something is logged: a pino child cost ~0.04 ms of an idle collector's way to the record's write.
    let child: Logger | undefined;
    const { host, rule, fingerprint } = record.alert;
    const log = (): Logger => (child ??= this.parts.logger.child({ host, rule, fingerprint }));
    if (!(await this.fenced(log))) return;
    let open: (told: boolean) => void = () => undefined;
    const gate = new Promise<boolean>((resolve) => (open = resolve));
    // Submitted in order, so the dispatcher admits (and queues) a record's entries in the order they were made.
    const accepted = record.outbox.map((entry) =>
      this.parts.sink.submit(entry.alert, entry.reason, {
        ...(entry.repeat !== undefined ? { repeat: entry.repeat } : {}),
        gate,
      }),
    );
    let told = false;
    try {
      await this.persist(record, log);
      // Checked again: a member paused after the write must not tell what its successor (redoing the outbox) tells.
      told = record.outbox.length > 0 && (await this.fenced(log));
    } finally {
      if (!told) open(false);
    }
    if (!told) {
      await Promise.all(accepted);
      return;
    }
    open(true);
    // The dispatcher's hand-offs wait on the gate since admission, so they run before this: the POSTs are on their
    // way before ALERTS is (a phone call takes seconds to ring, a webhook is the last hop of a few milliseconds).
    await gate;
    await afterRequestsWritten();
    await this.publishAll(record.outbox, log);
    // The dispatcher resolves once each notification is durably in its log, so clearing the outbox cannot lose it.
    await Promise.all(accepted);
    for (const entry of record.outbox) {
      this.parts.metrics.transitions.inc({ status: entry.alert.status, severity: entry.alert.severity });
      this.remember(entry);
    }
    await this.persist({ ...record, outbox: [] }, log);
  }

  private async fenced(log: () => Logger): Promise<boolean> {
    const { fence } = this.parts;
    if (!fence) return true;
    // The lease cannot be checked (NATS down): waiting keeps order; a lost lease shows on the next try.
    if (await untilDone(fence, log, 'cannot check the partition lease; retrying')) return true;
    this.parts.metrics.fenced.inc();
    return false;
  }

  /** KV unavailable means NATS is down: keep trying (in order) rather than drop a transition. */
  private persist(record: AlertRecord, log: () => Logger): Promise<void> {
    return untilDone(() => this.parts.store.put(record), log, 'cannot write alert state to KV; retrying');
  }

  /** One entry after the other: an alert's ALERTS messages keep their order. */
  private async publishAll(outbox: OutboxEntry[], log: () => Logger): Promise<void> {
    for (const entry of outbox) if (entry.publish) await this.publish(entry, log);
  }

  private async publish(entry: OutboxEntry, log: () => Logger): Promise<void> {
    const subject = this.parts.subjects.alert(entry.alert.severity, entry.alert.host);
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const ack = await publishDurable(this.parts.js, subject, entry.alert);
        this.parts.metrics.published.inc({ outcome: ack.duplicate ? 'duplicate' : 'ok' });
        return;
      } catch (err) {
        log().warn({ err, attempt }, 'publishing alert to ALERTS failed');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    this.parts.metrics.published.inc({ outcome: 'failed' });
    log().error(
      { status: entry.alert.status, generation: entry.alert.generation },
      'alert not published to ALERTS after 5 attempts; the notifiers still get it',
    );
  }

  private remember(entry: OutboxEntry): void {
    const a = entry.alert;
    this.recent.unshift({
      at: this.parts.clock.now(),
      reason: entry.reason,
      published: entry.publish,
      fingerprint: a.fingerprint,
      host: a.host,
      rule: a.rule,
      severity: a.severity,
      status: a.status,
      generation: a.generation,
      summary: a.summary,
    });
    if (this.recent.length > RECENT) this.recent.length = RECENT;
  }
}

/** Runs `work` until it resolves, in order; each failure is logged (the first, then every 30th) and retried later. */
async function untilDone<T>(work: () => Promise<T>, log: () => Logger, message: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt === 1 || attempt % 30 === 0) log().error({ err, attempt }, message);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * attempt)));
    }
  }
}
