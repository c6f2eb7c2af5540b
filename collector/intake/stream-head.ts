import type { Clock, Logger } from '../../shared/index.ts';

/** Skew between our clock and the NATS server's beyond which the operator is warned (README "Time"). */
export const SKEW_WARN_MS = 60_000;
/** Live samples the skew is the smallest of: a delivery delayed (a reconnect's backlog of one) is not skew. */
const SKEW_SAMPLES = 5;

/**
 * The newest end of EVENTS as this collector's feed knows it, in the NATS server's own clock: what a replay of
 * history is measured against (alerts/replay-window.ts). Judged against our clock instead, a collector whose clock ran
 * ahead of the server's (no NTP, a VM resumed, an RTC in local time) took every live event for history and told
 * nobody of anything. Told by stream info when a feed opens (and while a partition is behind it), and by each
 * delivery: its sequence plus the messages JetStream says are still to come, and its store time. One per
 * collector (one EVENTS reader feeds every partition); each partition is at the head when its own position is.
 */
export class StreamHead {
  /** A stream sequence known to exist (the last one, as far as we know): everything up to it is not news. */
  seq = 0;
  /** Store time (ms, server clock) of the newest event known; 0 before any. */
  time = 0;
  private readonly skews: number[] = [];
  private warned = false;

  constructor(private readonly clock: Clock) {}

  /**
   * Stream info: its last message (`state.last_seq`, `state.last_ts`). Its sequence is the stream's word: lower than
   * ours, the stream was recreated (or a delivery overtook the answer, the same head): partitions are not behind it.
   */
  observed(lastSeq: number, lastAt: number): void {
    this.seq = lastSeq;
    if (lastAt > this.time) this.time = lastAt;
  }

  /** A delivery from the feed, `pending` (JetStream delivery info) messages still after it. On the hot path. */
  delivered(seq: number, storedAt: number, pending: number): void {
    // Beyond every sequence we knew of: stored after the feed reached the head, so delivered as it was stored.
    if (seq > this.seq) this.sample(storedAt);
    if (seq + pending > this.seq) this.seq = seq + pending;
    if (storedAt > this.time) this.time = storedAt;
  }

  /**
   * The head for a tick at event time `at` of a partition at stream `position`: `at` itself when the partition has
   * evaluated every event known (nothing pending: the tick is live), else the newest store time known.
   */
  at(at: number, position: number): number {
    return position >= this.seq || at > this.time ? at : this.time;
  }

  /** Our clock minus the server's (ms), from live deliveries; null before the first. */
  skewMs(): number | null {
    return this.skews.length === 0 ? null : Math.min(...this.skews);
  }

  /** Warns once each time the skew goes beyond SKEW_WARN_MS, and says when it is back within. */
  checkSkew(logger: Logger): void {
    const skew = this.skewMs();
    if (skew === null) return;
    const beyond = Math.abs(skew) > SKEW_WARN_MS;
    if (beyond === this.warned) return;
    this.warned = beyond;
    const fields = { skewSeconds: Math.round(skew / 1000), limitSeconds: SKEW_WARN_MS / 1000 };
    if (beyond)
      logger.warn(fields, 'collector clock differs from the NATS server clock (EVENTS store time): check NTP');
    else logger.info(fields, 'collector clock agrees with the NATS server clock again');
  }

  private sample(storedAt: number): void {
    // Latency only adds to a sample: the smallest of the last few is the skew, a late one is not.
    if (this.skews.length === SKEW_SAMPLES) this.skews.shift();
    this.skews.push(this.clock.now() - storedAt);
  }
}
