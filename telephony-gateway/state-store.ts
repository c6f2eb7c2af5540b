import type { KV } from '@nats-io/kv';
import * as z from 'zod';
import type { Logger } from '../shared/index.ts';
import { BudgetState } from './calls/budget.ts';
import { EscalationState } from './calls/escalation.ts';
import { LockoutState } from './inbound/pin-guard.ts';

/** One alert's escalation as the KV bucket keeps it: in progress, or how it ended. */
export const EscalationRecord = z.object({
  generation: z.number().int().positive(),
  status: z.enum(['active', 'done']),
  reason: z.string().optional(),
  state: EscalationState.optional(),
  receivedAt: z.number().optional(),
  /** Named to a person in an answered call / handed to fallback for being unannounced (max_unannounced). */
  announced: z.boolean().optional(),
  unannouncedFallback: z.boolean().optional(),
});
export type EscalationRecord = z.infer<typeof EscalationRecord>;

const encoder = new TextEncoder();

/**
 * A read of gateway state that failed (NATS unreachable, bucket leader gone): the state is unknown, which is not the
 * same as "no record". An escalation must never start on an unknown state: it may have ended already.
 */
export class StateUnavailable extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`cannot read gateway state ${key}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'StateUnavailable';
  }
}

/**
 * Gateway state that must survive a restart, in the `gateway` KV bucket: budget counters,
 * PIN lockouts and each alert's escalation progress. A write that fails is logged and retried on
 * the next change; the line never waits on it for longer than one KV round trip.
 */
export class StateStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  /** The record, null when there is none (or it is unreadable); throws StateUnavailable when KV did not answer. */
  private async read<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | null> {
    let entry: Awaited<ReturnType<KV['get']>>;
    try {
      entry = await this.kv.get(key);
    } catch (err) {
      this.logger.warn({ err, key }, 'cannot read gateway state');
      throw new StateUnavailable(key, err);
    }
    if (entry?.operation !== 'PUT' || entry.length === 0) return null;
    const parsed = schema.safeParse(entry.json());
    if (parsed.success) return parsed.data;
    this.logger.warn({ key }, 'ignoring unreadable gateway state');
    return null;
  }

  /** Budget and lockouts at start: an unreachable KV starts them empty (the local file keeps the budget). */
  private async readOrEmpty<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | null> {
    try {
      return await this.read(key, schema);
    } catch (err) {
      // Safe: already logged; the budget is merged with the local file and lockouts start empty, as before a restart.
      if (err instanceof StateUnavailable) return null;
      throw err;
    }
  }

  /** True once stored; false (logged) when KV did not take it. */
  protected async write(key: string, value: unknown): Promise<boolean> {
    try {
      await this.kv.put(key, encoder.encode(JSON.stringify(value)));
      return true;
    } catch (err) {
      this.logger.warn({ err, key }, 'cannot write gateway state');
      return false;
    }
  }

  loadBudget(): Promise<BudgetState | null> {
    return this.readOrEmpty('budget', BudgetState);
  }
  async saveBudget(state: BudgetState): Promise<void> {
    await this.write('budget', state);
  }
  loadLockouts(): Promise<LockoutState | null> {
    // `pin-guard`, not the older `lockouts` key: that one held a different shape (per number only).
    return this.readOrEmpty('pin-guard', LockoutState);
  }
  async saveLockouts(state: LockoutState): Promise<void> {
    await this.write('pin-guard', state);
  }
  /** Throws StateUnavailable when KV did not answer: the caller holds the alert instead of guessing. */
  loadEscalation(fingerprint: string): Promise<EscalationRecord | null> {
    return this.read(`escalation.${fingerprint}`, EscalationRecord);
  }
  /** True once stored; false when KV did not take it (the caller decides whether it must be written again). */
  saveEscalation(fingerprint: string, record: EscalationRecord): Promise<boolean> {
    return this.write(`escalation.${fingerprint}`, record);
  }
  /** Ended escalations KV had not taken when the last process stopped (none here: this store keeps no file). */
  loadUnwrittenEnds(): Record<string, EscalationRecord> {
    return {};
  }
  /**
   * Keeps the ended escalations KV has not taken yet where a restart finds them; false when this store cannot (then a
   * restart forgets them). LocalFirstStateStore, what the gateway runs on, keeps them in its local file.
   */
  keepUnwrittenEnds(_pending: Record<string, EscalationRecord>): boolean {
    return false;
  }
}
