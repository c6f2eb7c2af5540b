import type { Counter } from 'prom-client';
import type { Logger } from '../../shared/index.ts';
import type { RejectReason } from './gate.ts';

const LOG_EVERY_MS = 60_000;
const MAX_SOURCES = 10_000;

/**
 * Counts refused events by reason and logs at most one line a minute per host and reason (with how
 * many were not logged), so a host sending junk cannot flood the log.
 */
export class RejectionReport {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly counter: Counter<'reason'>,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  rejected(reason: RejectReason, event: { host: string; epoch?: string | undefined; seq: number; ts: number }): void {
    this.counter.inc({ reason });
    const key = `${reason}\u0000${event.host}`;
    const entry = this.lastLogged.get(key);
    const now = this.now();
    if (entry && now - entry.at < LOG_EVERY_MS) {
      entry.suppressed++;
      return;
    }
    if (this.lastLogged.size >= MAX_SOURCES) this.lastLogged.clear();
    this.lastLogged.set(key, { at: now, suppressed: 0 });
    this.logger.warn(
      {
        host: event.host,
        reason,
        epoch: event.epoch ?? null,
        seq: event.seq,
        ts: event.ts,
        suppressedSinceLastLog: entry?.suppressed ?? 0,
      },
      `event refused (${HOW_TO_READ[reason]})`,
    );
  }
}

const HOW_TO_READ: Record<RejectReason, string> = {
  ts_future: 'its ts is further ahead than intake.max_clock_skew: check the host clock (NTP)',
  ts_past: 'its ts is older than intake.max_event_age',
  seq_jump: 'its seq jumps further than intake.max_seq_jump: spoofed, or an agent to restart with a new epoch',
};
