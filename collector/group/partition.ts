import { compileInhibitRules } from '../mute/inhibit-rules.ts';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { Ack, Clock, Heartbeat, Logger, Subjects } from '../../shared/index.ts';
import type { AlertRecord } from '../alerts/index.ts';
import type { AlertStore } from '../alerts/index.ts';
import { CheckpointStore, checkpointPrefix } from '../alerts/index.ts';
import { CommitQueue } from '../alerts/index.ts';
import type { CollectorConfig } from '../config.ts';
import { AlertEngine } from '../alerts/index.ts';
import { buildRules } from '../alerts/index.ts';
import { alertPartition } from './index.ts';
import { intakeLimits } from '../intake/index.ts';
import type { RejectionReport, StreamHead } from '../intake/index.ts';
import type { CollectorMetrics } from '../metrics.ts';
import type { NotificationSink } from '../notify/index.ts';
import type { AgentEvent } from '../rules/index.ts';
import type { Silence } from '../silences/index.ts';

export interface PartitionParts {
  partition: number;
  count: number;
  config: CollectorConfig;
  store: AlertStore;
  checkpoints: KV;
  js: JetStreamClient;
  subjects: Subjects;
  sink: NotificationSink;
  logger: Logger;
  metrics: CollectorMetrics;
  clock: Clock;
  rejections: RejectionReport;
  fence?: () => Promise<boolean>;
  /** The head of EVENTS as this member's feed knows it: what history is judged against. */
  head?: StreamHead;
}

/**
 * One partition's evaluation: its own engine, rules, commit queue and checkpoint keys, loaded from KV when the
 * partition is taken so the member resumes where the previous owner stopped (records with their outboxes, `for`
 * timers and rule state from the checkpoint, EVENTS replayed from the sequence the checkpoint covers).
 */
export class PartitionRuntime {
  /** The EVENTS/ACKS reader round that has fed this partition everything after its checkpoint. */
  readerRound = -1;
  private closed = false;
  private checkpointing: Promise<void> = Promise.resolve();

  private constructor(
    readonly partition: number,
    readonly engine: AlertEngine,
    readonly queue: CommitQueue,
    private readonly checkpoints: CheckpointStore,
    private readonly parts: PartitionParts,
  ) {}

  static async open(parts: PartitionParts, records: AlertRecord[]): Promise<PartitionRuntime> {
    const { partition, count, config, clock, metrics } = parts;
    const logger = count > 1 ? parts.logger.child({ partition }) : parts.logger;
    const queue = new CommitQueue({
      store: parts.store,
      js: parts.js,
      subjects: parts.subjects,
      sink: parts.sink,
      logger,
      metrics,
      clock,
      ...(parts.fence ? { fence: parts.fence } : {}),
    });
    const engine = new AlertEngine({
      rules: buildRules(config.rules, config.defaults),
      clock,
      output: queue,
      logger,
      intake: intakeLimits(config.intake),
      announceWithinMs: config.replay.announce_within,
      ...(parts.head ? { head: parts.head } : {}),
      inhibit: {
        rules: compileInhibitRules(config.inhibit_rules),
        onInhibited: (alert) => metrics.inhibited.inc({ rule: alert.rule }),
      },
      observer: {
        eventProcessed: (kind, seconds) => {
          metrics.events.inc({ kind });
          metrics.evaluation.observe({ kind }, seconds);
        },
        duplicateEvent: () => metrics.duplicates.inc(),
        rejectedEvent: (reason, event) => parts.rejections.rejected(reason, event),
        ruleFailed: (rule) => metrics.ruleErrors.inc({ rule }),
        quietTransition: (status) => metrics.quietTransitions.inc({ status }),
      },
    });
    const checkpoints = new CheckpointStore(parts.checkpoints, logger, checkpointPrefix(partition, count));
    const mine = records.filter((record) => alertPartition(record.alert, count) === partition);
    const saved = await checkpoints.load(config.rules.map((r) => r.name));
    redoOutboxes(queue, mine);
    engine.load(mine, saved);
    logger.info(
      {
        alerts: mine.length,
        resumeAfterSeq: engine.state.streamSeq,
        ackSeq: engine.state.ackSeq,
        rules: config.rules.length,
      },
      'collector state restored',
    );
    return new PartitionRuntime(partition, engine, queue, checkpoints, { ...parts, logger });
  }

  get logger(): Logger {
    return this.parts.logger;
  }

  /** `arrivedAt`: when JetStream stored the event (the intake gate's reference time). */
  handleEvent(event: AgentEvent, seq: number, arrivedAt: number): void {
    if (!this.closed) this.engine.handleEvent(event, seq, arrivedAt);
  }

  /** A message of another partition (or no event): this one has seen everything up to `seq`. */
  passed(seq: number): void {
    if (seq > this.engine.state.streamSeq) this.engine.state.streamSeq = seq;
  }

  handleHeartbeat(heartbeat: Heartbeat): void {
    if (!this.closed) this.engine.handleHeartbeat(heartbeat);
  }

  /** Acks name a fingerprint, not a host: every partition is offered each one, only the record's owner applies it. */
  handleAck(ack: Ack, seq: number): 'applied' | 'unknown' | 'stale' | 'skipped' {
    if (this.closed || seq <= this.engine.state.ackSeq) return 'skipped';
    const outcome = this.engine.handleAck(ack);
    this.engine.state.ackSeq = seq;
    return outcome;
  }

  setSilences(silences: Silence[]): void {
    if (!this.closed) this.engine.setSilences(silences);
  }

  tick(): void {
    if (!this.closed) this.engine.tick();
  }

  /** A checkpoint never gets ahead of the alert records: the transitions it covers are written first. */
  checkpoint(): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      if (this.closed) return;
      const snapshot = this.engine.state.snapshot(this.engine.rules);
      await this.queue.idle();
      try {
        if (this.parts.fence && !(await this.parts.fence())) return;
        await this.checkpoints.save(snapshot);
        this.parts.metrics.checkpointSeq.set(snapshot.streamSeq);
      } catch (err) {
        this.parts.logger.warn({ err }, 'checkpoint failed; will retry at the next interval');
      }
    });
    return this.checkpointing;
  }

  /** Handing over: everything committed is written and told, and the checkpoint covers it. */
  async close(): Promise<void> {
    await this.checkpoint();
    await this.queue.idle();
    this.closed = true;
  }

  /** The lease is gone: nothing more is evaluated; queued writes are fenced off one by one. */
  abandon(): void {
    this.closed = true;
  }
}

/** Announcements written but not confirmed before a crash are performed again (deduplicated downstream). */
function redoOutboxes(queue: CommitQueue, records: AlertRecord[]): void {
  for (const record of records) {
    if (record.outbox.length === 0) continue;
    queue.commit(structuredClone(record));
    record.outbox = [];
  }
}
