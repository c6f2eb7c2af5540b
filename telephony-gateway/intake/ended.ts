import type { Clock, ClockTimer, Logger } from '../../shared/index.ts';
import type { EscalationRecord, StateStore } from '../state-store.ts';

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * How escalations ended, until KV has taken it. The "done" record is what tells a redelivered ALERTS message (its ack
 * lost with a NATS node, redelivered after ack_wait) from a new one: if that write failed and was never retried, the
 * redelivery found the escalation still "active" (or nothing) and called again. So an ended generation is kept here
 * and the write retried with backoff until KV takes it; the intake looks here before it asks KV.
 */
export class EndedEscalations {
  private readonly pending = new Map<string, EscalationRecord>();
  private timer: ClockTimer | null = null;
  private delayMs = RETRY_FIRST_MS;
  private stopped = false;

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {}

  /** The ended record KV has not taken yet, if any. */
  get(fingerprint: string): EscalationRecord | undefined {
    return this.pending.get(fingerprint);
  }

  /** Remembers that `record.generation` ended, and writes it to KV (retried in the background if KV refuses). */
  async end(fingerprint: string, record: EscalationRecord): Promise<void> {
    this.pending.set(fingerprint, record);
    if (await this.store.saveEscalation(fingerprint, record)) this.written(fingerprint, record);
    else this.schedule();
  }

  /** A newer generation started: an older ended record still waiting must not overwrite what it writes. */
  supersede(fingerprint: string, generation: number): void {
    const waiting = this.pending.get(fingerprint);
    if (waiting && waiting.generation < generation) this.pending.delete(fingerprint);
  }

  /** Ended records not yet in KV (the status page and tests read it). */
  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size > 0)
      this.logger.error(
        { count: this.pending.size, fingerprints: [...this.pending.keys()].slice(0, 20) },
        'stopping with ended escalations not yet written to KV: a redelivery after the restart may call again',
      );
  }

  private written(fingerprint: string, record: EscalationRecord): void {
    // Only if nothing newer replaced it meanwhile.
    if (this.pending.get(fingerprint) === record) this.pending.delete(fingerprint);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.retry(), this.delayMs);
    this.delayMs = Math.min(RETRY_MAX_MS, this.delayMs * 2);
  }

  private async retry(): Promise<void> {
    this.timer = null;
    for (const [fingerprint, record] of [...this.pending]) {
      if (this.stopped) return;
      if (!(await this.store.saveEscalation(fingerprint, record))) {
        this.logger.warn(
          { fingerprint, generation: record.generation, waiting: this.pending.size },
          'ended escalation still not written to KV; will retry',
        );
        this.schedule();
        return;
      }
      this.written(fingerprint, record);
    }
    this.delayMs = RETRY_FIRST_MS;
    if (this.pending.size > 0) this.schedule(); // ended while this pass ran
  }
}
