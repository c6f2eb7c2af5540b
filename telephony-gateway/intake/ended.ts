import type { Clock, ClockTimer, Logger } from '../../shared/index.ts';
import type { EscalationRecord, StateStore } from '../state-store.ts';
import type { GatewayMetrics } from '../status/metrics.ts';

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * How escalations ended, until KV has taken it. The "done" record is what tells a redelivered ALERTS message (its ack
 * lost with a NATS node, redelivered after ack_wait) from a new one: if that write failed and was never retried, the
 * redelivery found the escalation still "active" (or nothing) and called again. So an ended generation is kept here
 * and the write retried with backoff until KV takes it; the intake looks here before it asks KV.
 *
 * Kept across a restart too, written ahead to the local state file (the store's `keepUnwrittenEnds`) before KV is
 * asked. Not recomputed from ALERTS or KV at start: the failure this covers is KV not answering, and ALERTS does not
 * say that nobody answered. The file is already what keeps the budget through a NATS outage, and a process that dies
 * in the middle of the KV write leaves the record there as well. One file write per burst of ends (a storm call
 * acknowledging hundreds of alerts writes it once), not one per alert.
 */
export class EndedEscalations {
  private readonly pending = new Map<string, EscalationRecord>();
  private timer: ClockTimer | null = null;
  private delayMs = RETRY_FIRST_MS;
  private stopped = false;
  private journalDue = false;

  constructor(
    private readonly store: StateStore,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly clock: Clock,
  ) {
    const left = Object.entries(store.loadUnwrittenEnds());
    if (left.length === 0) return;
    for (const [fingerprint, record] of left) this.pending.set(fingerprint, record);
    logger.warn(
      { count: left.length, fingerprints: left.slice(0, 20).map(([fingerprint]) => fingerprint) },
      'ended escalations the last run could not write to KV: kept from the local state file, writing them now',
    );
    this.timer = clock.setTimeout(() => void this.retry(), 0);
  }

  /** The ended record KV has not taken yet, if any. */
  get(fingerprint: string): EscalationRecord | undefined {
    return this.pending.get(fingerprint);
  }

  /** Remembers that `record.generation` ended, and writes it to KV (retried in the background if KV refuses). */
  async end(fingerprint: string, record: EscalationRecord): Promise<void> {
    this.pending.set(fingerprint, record);
    this.journal();
    if (await this.store.saveEscalation(fingerprint, record)) this.written(fingerprint, record);
    else this.schedule();
  }

  /** A newer generation started: an older ended record still waiting must not overwrite what it writes. */
  supersede(fingerprint: string, generation: number): void {
    const waiting = this.pending.get(fingerprint);
    if (!waiting || waiting.generation >= generation) return;
    this.pending.delete(fingerprint);
    this.journal();
  }

  /** Ended records not yet in KV (the status page and tests read it). */
  get size(): number {
    return this.pending.size;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const fingerprints = [...this.pending.keys()].slice(0, 20);
    if (this.writeJournal())
      this.logger.warn(
        { count: this.pending.size, fingerprints },
        'stopping with ended escalations not yet written to KV: kept in the local state file for the next start',
      );
    else
      this.logger.error(
        { count: this.pending.size, fingerprints },
        'stopping with ended escalations not yet written to KV: a redelivery after the restart may call again',
      );
  }

  /**
   * The file is written once the current burst of ends and removals is in `pending`: still before any KV answer
   * (that takes I/O), so before the held message is released.
   */
  private journal(): void {
    if (this.journalDue) return;
    this.journalDue = true;
    queueMicrotask(() => {
      this.journalDue = false;
      this.writeJournal();
    });
  }

  /** False when the store keeps no file or could not write it: a restart would forget what is pending. */
  private writeJournal(): boolean {
    return this.store.keepUnwrittenEnds(Object.fromEntries(this.pending));
  }

  private written(fingerprint: string, record: EscalationRecord): void {
    // Only if nothing newer replaced it meanwhile.
    if (this.pending.get(fingerprint) !== record) return;
    this.pending.delete(fingerprint);
    this.journal();
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
        this.metrics.endedWriteRetries.inc({ result: 'failed' });
        this.logger.warn(
          { fingerprint, generation: record.generation, waiting: this.pending.size },
          'ended escalation still not written to KV; will retry',
        );
        this.schedule();
        return;
      }
      this.metrics.endedWriteRetries.inc({ result: 'written' });
      this.written(fingerprint, record);
    }
    this.delayMs = RETRY_FIRST_MS;
    if (this.pending.size > 0) this.schedule(); // ended while this pass ran
  }
}
