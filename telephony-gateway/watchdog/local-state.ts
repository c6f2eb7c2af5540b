import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KV } from '@nats-io/kv';
import { z } from 'zod';
import type { Logger } from '../../shared/index.ts';
import { BudgetState, type PlacedCall } from '../budget.ts';
import type { LockoutState } from '../inbound.ts';
import { StateStore, type EscalationRecord } from '../state-store.ts';

/** The gateway's own copy of what it needs with NATS down: the budget's calls and the watchdog's incident number. */
const LocalFile = z.object({
  /** The KV bucket this copy belongs to (its stream's creation time): a copy from another deployment is ignored. */
  bucket: z.string(),
  budget: BudgetState.default({ calls: [] }),
  watchdogGeneration: z.number().int().nonnegative().default(0),
});
type LocalFile = z.infer<typeof LocalFile>;

function mergeCalls(a: readonly PlacedCall[], b: readonly PlacedCall[]): PlacedCall[] {
  const byKey = new Map<string, PlacedCall>();
  // The longer record of one call wins: its duration (and cost) were amended after it ended.
  for (const call of [...a, ...b]) {
    const key = `${call.at}\u0000${call.number}`;
    const seen = byKey.get(key);
    if (!seen || call.durationMs > seen.durationMs) byKey.set(key, call);
  }
  return [...byKey.values()].sort((x, y) => x.at - y.at);
}

/**
 * The gateway state store with a local file beside the KV bucket. The budget is written to the file first, so a
 * watchdog call made while NATS is down is counted and survives a restart; on start the file and KV are merged.
 * While NATS is known to be unreachable, KV writes are skipped instead of each waiting out a 5 s timeout on the
 * line's path (the next write after NATS is back carries the whole state again).
 */
export class LocalFirstStateStore extends StateStore {
  private local: LocalFile;

  constructor(
    kv: KV,
    private readonly file: string,
    private readonly bucketId: string,
    private readonly online: () => boolean,
    private readonly log: Logger,
  ) {
    super(kv, log);
    this.local = this.readLocal();
  }

  private readLocal(): LocalFile {
    const empty: LocalFile = { bucket: this.bucketId, budget: { calls: [] }, watchdogGeneration: 0 };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return empty; // first start: no copy yet
    }
    try {
      const parsed = LocalFile.safeParse(JSON.parse(text));
      if (!parsed.success) {
        this.log.warn({ file: this.file }, 'ignoring unreadable local gateway state');
        return empty;
      }
      if (parsed.data.bucket !== this.bucketId) {
        this.log.info({ file: this.file }, 'local gateway state belongs to another KV bucket: starting a fresh copy');
        return { ...empty, watchdogGeneration: parsed.data.watchdogGeneration };
      }
      return parsed.data;
    } catch (err) {
      this.log.warn({ err, file: this.file }, 'ignoring unreadable local gateway state');
      return empty;
    }
  }

  private writeLocal(): void {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.local));
      renameSync(tmp, this.file);
    } catch (err) {
      this.log.error({ err, file: this.file }, 'cannot write the local gateway state');
    }
  }

  override async loadBudget(): Promise<BudgetState | null> {
    const fromKv = this.online() ? await super.loadBudget() : null;
    const calls = mergeCalls(fromKv?.calls ?? [], this.local.budget.calls);
    return calls.length > 0 ? { calls } : fromKv;
  }

  override async saveBudget(state: BudgetState): Promise<void> {
    this.local.budget = state;
    this.writeLocal();
    if (this.online()) await super.saveBudget(state);
  }

  override async saveEscalation(fingerprint: string, record: EscalationRecord): Promise<void> {
    if (this.online()) await super.saveEscalation(fingerprint, record);
  }

  override async saveLockouts(state: LockoutState): Promise<void> {
    if (this.online()) await super.saveLockouts(state);
  }

  /** The next watchdog incident number, kept locally so an incident after a restart is a new generation. */
  nextWatchdogGeneration(): number {
    this.local.watchdogGeneration += 1;
    this.writeLocal();
    return this.local.watchdogGeneration;
  }
}
