import { jetstreamManager } from '@nats-io/jetstream';
import type { Clock, Logger, NatsConnection } from '../../shared/index.ts';
import type { StreamHead } from '../intake/index.ts';

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;
/**
 * How long a feed that finds itself behind, with stream info failing, holds its backlog back before judging history
 * by its deliveries alone (README "Time"): long enough for a JetStream leader election or a busy API to answer, short
 * enough that a stream info that never answers does not stop alerting.
 */
export const HEAD_WAIT_MS = 30_000;

/** Waits between stream info attempts after failures: 250 ms, 500 ms, 1 s… capped at 5 s; `n` counts from 0. */
const retryDelayMs = (n: number): number => Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** n);

/**
 * Asks the stream where it ends (stream info: `state.last_seq`, `state.last_ts`), what a replay of history is judged
 * against (intake/stream-head.ts). Unanswered, history is judged only by the events delivered so far, each of which
 * looks like the newest: a replay would tell of incidents days old. So a failure is counted
 * (offhook_collector_stream_info_failures_total), warned of, and retried with backoff, both at a tick while a
 * partition is behind (poke) and by a feed holding its backlog back (retry). Backoff and the wait run on the
 * injected clock's monotonic time and timers: a wall-clock step neither stretches nor cuts them, and tests drive them.
 */
export class HeadRefresher {
  private failuresInRow = 0;
  private nextAt = 0;
  private asking = false;

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      clock: Clock;
      stream: string;
      head: StreamHead;
      logger: Logger;
      /** Stream info requests that failed (offhook_collector_stream_info_failures_total). */
      failures?: { inc(): void };
    },
  ) {}

  /** One stream info; true when it answered (the head is then the stream's word). */
  async refresh(): Promise<boolean> {
    const { nc, stream, head, logger } = this.deps;
    try {
      const { state } = await (await jetstreamManager(nc)).streams.info(stream);
      head.observed(state.last_seq, state.last_seq > 0 ? Date.parse(state.last_ts) : 0);
      if (this.failuresInRow > 0)
        logger.info({ stream, failures: this.failuresInRow }, 'stream info answers again: history judged by it');
      this.failuresInRow = 0;
      this.nextAt = 0;
      return true;
    } catch (err) {
      this.failuresInRow += 1;
      this.deps.failures?.inc();
      this.nextAt = this.deps.clock.monotonic() + retryDelayMs(this.failuresInRow - 1);
      if (this.failuresInRow === 1 || this.failuresInRow % 20 === 0)
        logger.warn(
          { err, stream, failuresInRow: this.failuresInRow },
          'cannot read where the stream ends (stream info); retrying: until it answers, history is judged by the ' +
            'events delivered so far',
        );
      return false;
    }
  }

  /** A tick while a partition is behind: one stream info, unless one is under way or the backoff says wait. */
  poke(): void {
    if (this.asking || this.deps.clock.monotonic() < this.nextAt) return;
    this.asking = true;
    void this.refresh().finally(() => {
      this.asking = false;
    });
  }

  /** Asks until stream info answers (true), or `waitMs` has passed or `cancelled()` says stop (false). */
  async retry(waitMs: number, cancelled: () => boolean): Promise<boolean> {
    const { clock } = this.deps;
    const deadline = clock.monotonic() + waitMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.refresh()) return true;
      const delay = retryDelayMs(attempt);
      if (cancelled() || clock.monotonic() + delay > deadline) return false;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, delay));
      if (cancelled()) return false;
    }
  }
}
