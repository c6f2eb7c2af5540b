import type { KV } from '@nats-io/kv';
import type { Logger } from '../../shared/index.ts';
import type { BudgetState } from '../calls/budget.ts';
import type { LockoutState } from '../inbound/pin-guard.ts';
import { StateStore, type EscalationRecord } from '../state-store.ts';
import { LocalStateFile, mergeCalls } from './local-file.ts';

/**
 * The gateway state store with a local file beside the KV bucket. The budget is written to the file first, so a
 * watchdog call made while NATS is down is counted and survives a restart; on start the file and KV are merged.
 * While NATS is known to be unreachable, KV writes are skipped instead of each waiting out a 5 s timeout on the
 * line's path (the next write after NATS is back carries the whole state again).
 */
export class LocalFirstStateStore extends StateStore {
  private readonly local: LocalStateFile;

  constructor(
    kv: KV,
    file: string,
    bucketId: string,
    private readonly online: () => boolean,
    logger: Logger,
  ) {
    super(kv, logger);
    this.local = new LocalStateFile(file, bucketId, logger);
  }

  override async loadBudget(): Promise<BudgetState | null> {
    const fromKv = this.online() ? await super.loadBudget() : null;
    const calls = mergeCalls(fromKv?.calls ?? [], this.local.budget.calls);
    return calls.length > 0 ? { calls } : fromKv;
  }

  override async saveBudget(state: BudgetState): Promise<void> {
    this.local.budget = state;
    if (this.online()) await super.saveBudget(state);
  }

  /** Not stored while NATS is known to be unreachable: false, so an ended escalation is written again later. */
  override async saveEscalation(fingerprint: string, record: EscalationRecord): Promise<boolean> {
    return this.online() ? super.saveEscalation(fingerprint, record) : false;
  }

  override loadUnwrittenEnds(): Record<string, EscalationRecord> {
    return { ...this.local.unwrittenEnds };
  }

  override keepUnwrittenEnds(pending: Record<string, EscalationRecord>): boolean {
    return this.local.keepUnwrittenEnds(pending);
  }

  override async saveLockouts(state: LockoutState): Promise<void> {
    if (this.online()) await super.saveLockouts(state);
  }

  /** The next watchdog incident number, kept locally so an incident after a restart is a new generation. */
  nextWatchdogGeneration(): number {
    return this.local.nextGeneration();
  }
}
