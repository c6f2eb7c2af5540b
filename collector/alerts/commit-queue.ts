import type { JetStreamClient } from '@nats-io/jetstream';
import { publishDurable, type Clock, type Logger, type Subjects } from '../../shared/index.ts';
import type { AlertRecord, OutboxEntry } from './alert-record.ts';
import type { AlertStore } from './alert-store.ts';
import type { EngineOutput } from './engine.ts';
import type { CollectorMetrics } from '../metrics.ts';
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
 * Performs the engine's commits in order: write the record (with its outbox) to KV, publish
 * each transition to ALERTS while handing it to the notifiers, then clear the outbox.
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

  private async perform(record: AlertRecord): Promise<void> {
    const log = this.parts.logger.child({
      host: record.alert.host,
      rule: record.alert.rule,
      fingerprint: record.alert.fingerprint,
    });
    if (!(await this.fenced(log))) return;
    await this.persist(record, log);
    if (record.outbox.length === 0) return;
    // Checked again: a member paused after the write must not tell what its successor (redoing the outbox) tells.
    if (!(await this.fenced(log))) return;
    for (const entry of record.outbox) {
      // ALERTS (the gateway's way) and the notifiers are told side by side: neither waits for the other's round trip.
      // Both awaited: the dispatcher resolves once the notification is durably in its log, so clearing the outbox below
      // cannot lose it; entries stay in order, the next one starts once both are done.
      const context = entry.repeat !== undefined ? { repeat: entry.repeat } : undefined;
      await Promise.all([
        entry.publish ? this.publish(entry, log) : undefined,
        this.parts.sink.submit(entry.alert, entry.reason, context),
      ]);
      this.parts.metrics.transitions.inc({ status: entry.alert.status, severity: entry.alert.severity });
      this.remember(entry);
    }
    await this.persist({ ...record, outbox: [] }, log);
  }

  private async fenced(log: Logger): Promise<boolean> {
    if (!this.parts.fence) return true;
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.parts.fence()) return true;
        this.parts.metrics.fenced.inc();
        return false;
      } catch (err) {
        // The lease cannot be checked (NATS down): waiting keeps order; a lost lease shows on the next try.
        if (attempt === 1 || attempt % 30 === 0)
          log.error({ err, attempt }, 'cannot check the partition lease; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * attempt)));
      }
    }
  }

  /** KV unavailable means NATS is down: keep trying (in order) rather than drop a transition. */
  private async persist(record: AlertRecord, log: Logger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.parts.store.put(record);
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 30 === 0)
          log.error({ err, attempt }, 'cannot write alert state to KV; retrying');
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * attempt)));
      }
    }
  }

  private async publish(entry: OutboxEntry, log: Logger): Promise<void> {
    const subject = this.parts.subjects.alert(entry.alert.severity, entry.alert.host);
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        const ack = await publishDurable(this.parts.js, subject, entry.alert);
        this.parts.metrics.published.inc({ outcome: ack.duplicate ? 'duplicate' : 'ok' });
        return;
      } catch (err) {
        log.warn({ err, attempt }, 'publishing alert to ALERTS failed');
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    this.parts.metrics.published.inc({ outcome: 'failed' });
    log.error(
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
