import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as z from 'zod';
import type { Logger } from '../../shared/index.ts';
import { BudgetState, type PlacedCall } from '../calls/budget.ts';
import { EscalationRecord } from '../state-store.ts';

/** The gateway's own copy of what it needs with NATS down: the budget's calls and the watchdog's incident number. */
const LocalFileContent = z.object({
  /**
   * The KV bucket this copy belongs to (its stream's creation time), so a copy from another deployment is not merged
   * in; empty when it was written before NATS was ever reached (it is then adopted by the first bucket).
   */
  bucket: z.string(),
  budget: BudgetState.default({ calls: [] }),
  watchdogGeneration: z.number().int().nonnegative().default(0),
  /** Ended escalations KV has not taken yet, by fingerprint (intake/ended.ts): written before KV is asked. */
  unwrittenEnds: z.record(z.string(), EscalationRecord).default({}),
});
type LocalFileContent = z.infer<typeof LocalFileContent>;

export function localStatePath(stateDir: string, prefix: string): string {
  return join(stateDir, `local-state.${prefix}.json`);
}

export function mergeCalls(a: readonly PlacedCall[], b: readonly PlacedCall[]): PlacedCall[] {
  const byKey = new Map<string, PlacedCall>();
  // The longer record of one call wins: its duration (and cost) were amended after it ended.
  for (const call of [...a, ...b]) {
    const key = `${call.at}\u0000${call.number}`;
    const seen = byKey.get(key);
    if (!seen || call.durationMs > seen.durationMs) byKey.set(key, call);
  }
  return [...byKey.values()].sort((x, y) => x.at - y.at);
}

/** The local state file: read once, rewritten whole (write to a temporary file, then rename) on every change. */
export class LocalStateFile {
  private content: LocalFileContent;

  /** `bucketId` null: whatever bucket the file says (NATS not reached yet). */
  constructor(
    private readonly file: string,
    bucketId: string | null,
    private readonly logger: Logger,
  ) {
    this.content = this.read(bucketId);
  }

  get budget(): BudgetState {
    return this.content.budget;
  }

  set budget(state: BudgetState) {
    this.content.budget = state;
    this.write();
  }

  get unwrittenEnds(): Record<string, EscalationRecord> {
    return this.content.unwrittenEnds;
  }

  /** False when the file could not be written (logged). */
  keepUnwrittenEnds(pending: Record<string, EscalationRecord>): boolean {
    this.content.unwrittenEnds = pending;
    return this.write();
  }

  nextGeneration(): number {
    this.content.watchdogGeneration += 1;
    this.write();
    return this.content.watchdogGeneration;
  }

  private read(bucketId: string | null): LocalFileContent {
    const empty: LocalFileContent = {
      bucket: bucketId ?? '',
      budget: { calls: [] },
      watchdogGeneration: 0,
      unwrittenEnds: {},
    };
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return empty; // first start: no copy yet
    }
    let parsed: ReturnType<typeof LocalFileContent.safeParse>;
    try {
      parsed = LocalFileContent.safeParse(JSON.parse(text));
    } catch (err) {
      this.logger.warn({ err, file: this.file }, 'ignoring unreadable local gateway state');
      return empty;
    }
    if (!parsed.success) {
      this.logger.warn({ file: this.file }, 'ignoring unreadable local gateway state');
      return empty;
    }
    const data = parsed.data;
    if (bucketId === null || data.bucket === bucketId) return data;
    if (data.bucket === '') return { ...data, bucket: bucketId };
    this.logger.info({ file: this.file }, 'local gateway state belongs to another KV bucket: starting a fresh copy');
    return { ...empty, watchdogGeneration: data.watchdogGeneration };
  }

  private write(): boolean {
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, JSON.stringify(this.content));
      renameSync(tmp, this.file);
      return true;
    } catch (err) {
      this.logger.error({ err, file: this.file }, 'cannot write the local gateway state');
      return false;
    }
  }
}
