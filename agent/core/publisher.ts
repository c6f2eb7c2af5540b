import { EventEmitter } from 'node:events';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  CheckResult,
  LogMatch,
  newId,
  publishDurable,
  ResourceSample,
  SCHEMA_VERSION,
  type Logger,
  type Subjects,
} from '../../shared/index.ts';
import { acceptLogMatch } from '../../shared/schemas/log-fast.ts';
import type { AgentMetrics, PUBLISH_FAILURE_REASONS } from './metrics.ts';
import type { DiskSpool, SpooledEvent } from './spool.ts';
import type { SequenceCounter } from './sequence.ts';

type Envelope = 'v' | 'id' | 'host' | 'ts' | 'seq' | 'epoch';
export type EventBody = Omit<ResourceSample, Envelope> | Omit<CheckResult, Envelope> | Omit<LogMatch, Envelope>;

const SCHEMAS = { resource: ResourceSample, check: CheckResult, log: LogMatch } as const;
const RETRY_MS = 1000;

interface Pending {
  event: SpooledEvent;
  done: () => void;
}

/**
 * The only place events leave the agent. Each event gets the next seq and a fresh id, then goes to
 * JetStream; while that fails (disconnected, no stream yet, timeout) it goes to the disk spool, which
 * is drained in order before anything newer is sent, so seq order holds end to end. Retries keep
 * the id, so the stream's duplicate window stores a message once even if an ack was lost.
 * Emits 'spool' with the depth whenever the spool changes.
 */
export class EventPublisher extends EventEmitter<{ spool: [depth: number] }> {
  private js: JetStreamClient | null = null;
  private connected = false;
  private readonly queue: Pending[] = [];
  private wake: (() => void) | null = null;
  private retryAt = 0;
  private stopped = false;
  private pumpDone: Promise<void> | null = null;
  private lastFailure = '';
  private spoolError = '';

  constructor(
    private readonly options: {
      host: string;
      subjects: Subjects;
      spool: DiskSpool;
      sequence: SequenceCounter;
      publishTimeoutMs: number;
      metrics: AgentMetrics;
      logger: Logger;
      now?: () => number;
    },
  ) {
    super();
  }

  /** Called when the NATS connection exists; connection state changes come through setConnected. */
  attach(js: JetStreamClient): void {
    this.js = js;
    this.start();
    this.setConnected(true);
  }

  setConnected(connected: boolean): void {
    if (!connected && this.connected)
      this.options.logger.warn(
        { spoolDepth: this.options.spool.depth },
        'NATS connection lost; spooling events to disk until it is back',
      );
    this.connected = connected;
    if (connected) this.retryAt = 0;
    this.kick();
  }

  /**
   * Assigns seq and id (or takes a deterministic id, see LogSource), validates, and resolves once the event is either
   * acknowledged by JetStream or
   * on disk in the spool (so a log position may be saved after it).
   */
  submit(body: EventBody, options: { id?: string } = {}): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    const { epoch } = this.options.sequence;
    const { host } = this.options;
    const draft = { v: SCHEMA_VERSION, id: options.id ?? newId(), host, ts: now, seq: 0, epoch, ...body };
    // A log match is checked by the acceptor the collector's decode uses, which returns what zod would and leaves
    // whatever it is unsure of to zod (shared/schemas/log-fast.ts): zod took ~0.2 ms of a lone line's way to NATS.
    const accepted = body.kind === 'log' ? acceptLogMatch(draft) : undefined;
    const parsed = accepted ? { success: true as const, data: accepted } : SCHEMAS[body.kind].safeParse(draft);
    if (!parsed.success) {
      // A plugin bug must not poison the stream; it is counted and logged, and takes no seq.
      this.options.metrics.invalidEvents.inc({ kind: body.kind });
      this.options.logger.error(
        { kind: body.kind, issues: parsed.error.issues.slice(0, 3) },
        'dropped an invalid event built by the agent',
      );
      return Promise.resolve();
    }
    const message = { ...parsed.data, seq: this.options.sequence.next() };
    this.options.metrics.sequence.set(message.seq);
    const event: SpooledEvent = { subject: this.options.subjects.event(this.options.host, body.kind), message };
    if (this.stopped) {
      // Shutting down: whatever still arrives is kept for the next start.
      this.toSpool(event);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.queue.push({ event, done: resolve });
      this.start();
      this.kick();
    });
  }

  get spoolDepth(): number {
    return this.options.spool.depth;
  }

  private start(): void {
    this.pumpDone ??= this.pumpForever();
  }

  /** The pump must outlive disk errors (spool unreadable): log, wait a second, go on. */
  private async pumpForever(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.pump();
      } catch (err) {
        this.options.logger.error({ err }, 'event pump failed; retrying in 1 s');
        await this.sleep(RETRY_MS);
      }
    }
  }

  private kick(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private sleep(ms: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === null ? null : setTimeout(() => this.kick(), ms);
      this.wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
    });
  }

  private canPublish(): boolean {
    return this.js !== null && this.connected && (this.options.now ?? Date.now)() >= this.retryAt;
  }

  private spoolPending(): void {
    for (const item of this.queue.splice(0)) {
      this.toSpool(item.event);
      item.done();
    }
    this.updateSpoolGauges();
  }

  private async pump(): Promise<void> {
    const { spool } = this.options;
    while (!this.stopped) {
      if (spool.depth > 0) {
        // Older events are on disk: everything newer queues behind them there.
        this.spoolPending();
        if (!this.canPublish()) {
          await this.sleep(this.js && this.connected ? Math.max(10, this.retryAt - Date.now()) : null);
          continue;
        }
        const head = spool.peek();
        if (!head) continue;
        if (await this.publish(head)) {
          spool.shift();
          this.updateSpoolGauges();
        }
        continue;
      }
      const item = this.queue.shift();
      if (!item) {
        await this.sleep(null);
        continue;
      }
      if (!this.canPublish() || !(await this.publish(item.event))) {
        this.toSpool(item.event);
        this.updateSpoolGauges();
      }
      item.done();
    }
  }

  /** A full or read-only disk must not take the agent down: the event is counted as dropped instead. */
  private toSpool(event: SpooledEvent): void {
    try {
      this.options.spool.append(event);
      this.spoolError = '';
    } catch (err) {
      this.options.metrics.spoolDropped.inc();
      const message = (err as Error).message;
      if (message !== this.spoolError)
        this.options.logger.error(
          { err, seq: event.message.seq },
          'cannot write to the spool; dropping events until it works again',
        );
      this.spoolError = message;
    }
  }

  private async publish(event: SpooledEvent): Promise<boolean> {
    try {
      await publishDurable(this.js!, event.subject, event.message, this.options.publishTimeoutMs);
      this.options.metrics.published.inc({ kind: event.subject.slice(event.subject.lastIndexOf('.') + 1) });
      if (this.lastFailure) {
        this.options.logger.info({ spoolDepth: this.options.spool.depth }, 'publishing to JetStream again');
        this.lastFailure = '';
      }
      return true;
    } catch (err) {
      const reason = failureReason(err as Error);
      this.options.metrics.publishErrors.inc({ reason });
      if (reason !== this.lastFailure) {
        this.options.logger.warn(
          { reason, err, spoolDepth: this.options.spool.depth },
          'JetStream publish failed; spooling events to disk until it works again',
        );
        this.lastFailure = reason;
      }
      this.retryAt = (this.options.now ?? Date.now)() + RETRY_MS;
      return false;
    }
  }

  private updateSpoolGauges(): void {
    this.options.metrics.spoolDepth.set(this.options.spool.depth);
    this.options.metrics.spoolBytes.set(this.options.spool.bytes);
    this.emit('spool', this.options.spool.depth);
  }

  /** Stops after the event in flight; whatever is still queued in memory goes to the spool. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.kick();
    await this.pumpDone;
    this.spoolPending();
    this.options.sequence.flush();
  }
}

function failureReason(err: Error): (typeof PUBLISH_FAILURE_REASONS)[number] {
  const text = `${err.name} ${err.message}`.toLowerCase();
  if (text.includes('no responders') || text.includes('503') || text.includes('jetstream is not enabled'))
    return 'no_stream';
  if (text.includes('timeout')) return 'timeout';
  if (text.includes('closed') || text.includes('disconnect') || text.includes('connection')) return 'disconnected';
  return 'other';
}
