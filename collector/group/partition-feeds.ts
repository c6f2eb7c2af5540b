import type { Clock, InboundValidator, Logger, NatsConnection, Subjects } from '../../shared/index.ts';
import { readStreamFrom, type StreamFeed, type StreamHead } from '../intake/index.ts';
import { partitionOf } from './index.ts';
import { storedAtMs } from '../intake/index.ts';
import { HEAD_WAIT_MS, HeadRefresher } from './head-refresh.ts';
import type { PartitionRuntime } from './partition.ts';

export interface PartitionFeedOptions {
  nc: NatsConnection;
  /** Paces stream info retries and the wait for the head (HEAD_WAIT_MS). */
  clock: Clock;
  streams: { events: string; acks: string };
  validator: InboundValidator;
  subjects: Subjects;
  logger: Logger;
  count: number;
  runtimes: Map<number, PartitionRuntime>;
  /** Where EVENTS ends, told by each delivery (the partitions' engines judge history against it). */
  head: StreamHead;
  /** EVENTS stream info requests that failed (offhook_collector_stream_info_failures_total). */
  streamInfoFailures?: { inc(): void };
  expiresMs?: number;
}

/**
 * One EVENTS and one ACKS reader per member, whatever it owns: each event goes to the partition of its host.
 * When a partition is taken the readers start again from the oldest position of the partitions held, so the new
 * one replays from its checkpoint while the others skip what they have already seen.
 */
export class PartitionFeeds {
  private round = 0;
  private events: StreamFeed | undefined;
  private acks: StreamFeed | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private queued: Promise<void> | undefined;
  /** The next open judges a backlog by its deliveries: stream info failed for all of HEAD_WAIT_MS. */
  private withoutHead = false;

  /** Stream info for `head` (where EVENTS ends), retried with backoff; the collector's tick asks it while behind. */
  readonly refresher: HeadRefresher;

  constructor(private readonly options: PartitionFeedOptions) {
    const { nc, clock, streams, head, logger, streamInfoFailures } = options;
    this.refresher = new HeadRefresher({
      nc,
      clock,
      stream: streams.events,
      head,
      logger,
      ...(streamInfoFailures ? { failures: streamInfoFailures } : {}),
    });
  }

  /** A failed open rejects this call only: the chain stays usable, or one bad moment would stop every later one. */
  restart(): Promise<void> {
    // Rounds no longer wait for the feeds: while one restart opens (up to a JetStream API timeout per feed), every
    // round that takes a partition asks again. A restart not started yet opens for every partition held when it
    // starts, so those callers share it instead of queueing one stop-and-open each.
    if (this.queued) return this.queued;
    const run = this.chain.then(() => {
      this.queued = undefined;
      return this.open();
    });
    this.queued = run;
    this.chain = run.catch(() => undefined); // the caller gets the error through `run`
    return run;
  }

  /** For good (the collector stops): a restart still pending or under way opens nothing, or stops what it opened. */
  close(): void {
    this.closed = true;
    this.stop();
  }

  stop(): void {
    this.round++;
    this.events?.stop();
    this.acks?.stop();
    this.events = this.acks = undefined;
  }

  private async open(): Promise<void> {
    this.stop();
    const round = this.round;
    const held = [...this.options.runtimes.values()];
    if (held.length === 0 || this.closed) return;
    for (const runtime of held) runtime.readerRound = round;
    const eventsFrom = Math.min(...held.map((r) => r.engine.state.streamSeq));
    const acksFrom = Math.min(...held.map((r) => r.engine.state.ackSeq));
    const { nc, streams, validator, logger, count, runtimes, head } = this.options;
    // Before the first delivery: a replay must know from its first event how far behind the head it is.
    const headKnown = (await this.refresher.refresh()) || this.withoutHead;
    this.withoutHead = false;
    if (round !== this.round) return;
    const feedOptions = { logger, ...(this.options.expiresMs ? { expiresMs: this.options.expiresMs } : {}) };
    const events = await readStreamFrom(nc, streams.events, eventsFrom, feedOptions, (msg) => {
      if (round !== this.round) return;
      const seq = msg.seq;
      const storedAt = storedAtMs(msg);
      head.delivered(seq, storedAt, msg.info.pending);
      // Behind, and nobody said how far: judged now, every backlog event would look like the newest one.
      if (!headKnown && msg.info.pending > 0) return this.holdForHead();
      // Another member's host: its subject says so, and the payload is not even decoded (the owner validates it).
      const parsed = count > 1 ? this.options.subjects.parse(msg.subject) : null;
      if (parsed?.type === 'event' && !runtimes.has(partitionOf(parsed.host, count))) {
        for (const runtime of runtimes.values()) if (runtime.readerRound === round) runtime.passed(seq);
        return;
      }
      const decoded = validator.accept(msg.subject, msg.data);
      const isEvent = decoded && (decoded.type === 'resource' || decoded.type === 'check' || decoded.type === 'log');
      const event = isEvent ? decoded.message : null;
      const target = event ? partitionOf(event.host, count) : -1;
      for (const runtime of runtimes.values()) {
        if (runtime.readerRound !== round) continue;
        const mine = runtime.partition === target && seq > runtime.engine.state.streamSeq;
        if (mine) runtime.handleEvent(event!, seq, storedAt);
        else runtime.passed(seq);
      }
    });
    // Stopped while it opened (the next restart, or close): what was just opened would be left reading.
    if (round !== this.round) return events.stop();
    this.events = events;
    const acks = await readStreamFrom(nc, streams.acks, acksFrom, feedOptions, (msg) => {
      if (round !== this.round) return;
      const decoded = validator.accept(msg.subject, msg.data);
      for (const runtime of runtimes.values()) {
        if (runtime.readerRound !== round) continue;
        if (decoded?.type !== 'ack') {
          runtime.engine.state.ackSeq = Math.max(runtime.engine.state.ackSeq, msg.seq);
          continue;
        }
        const outcome = runtime.handleAck(decoded.message, msg.seq);
        if (outcome === 'applied' || (outcome !== 'skipped' && count <= 1)) {
          const { fingerprint, by, method } = decoded.message;
          runtime.logger.info({ fingerprint, by, method, outcome }, 'acknowledgement received');
        }
      }
    });
    if (round !== this.round) return acks.stop();
    this.acks = acks;
  }

  /**
   * Stops the feeds before a backlog is judged without knowing where EVENTS ends (stream info failed at open), asks
   * again with backoff, and reopens them from the partitions' positions once it answers, or after HEAD_WAIT_MS
   * (then the backlog is judged by its deliveries, logged as an error). A restart or close meanwhile ends the wait.
   */
  private holdForHead(): void {
    this.stop();
    const round = this.round;
    const { logger, streams } = this.options;
    const waitMs = HEAD_WAIT_MS;
    const cancelled = (): boolean => this.closed || this.round !== round || this.queued !== undefined;
    logger.warn({ stream: streams.events, waitMs }, 'behind the stream head with stream info failing: waiting for it');
    void this.refresher.retry(waitMs, cancelled).then((known) => {
      if (cancelled()) return;
      if (!known) {
        this.withoutHead = true;
        logger.error(
          { stream: streams.events, waitMs },
          'stream info keeps failing: judging the backlog by its deliveries (old events may be told as new)',
        );
      }
      this.restart().catch((err: unknown) => logger.error({ err }, 'cannot reopen the stream feeds'));
    });
  }
}
