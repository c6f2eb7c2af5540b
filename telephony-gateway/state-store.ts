import type { KV } from '@nats-io/kv';
import { z } from 'zod';
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
 * Gateway state that must survive a restart, in the `gateway` KV bucket: budget counters,
 * PIN lockouts and each alert's escalation progress. A write that fails is logged and retried on
 * the next change; the line never waits on it for longer than one KV round trip.
 */
export class StateStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  private async read<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | null> {
    try {
      const entry = await this.kv.get(key);
      if (entry?.operation !== 'PUT' || entry.length === 0) return null;
      const parsed = schema.safeParse(entry.json());
      if (parsed.success) return parsed.data;
      this.logger.warn({ key }, 'ignoring unreadable gateway state');
      return null;
    } catch (err) {
      this.logger.warn({ err, key }, 'cannot read gateway state');
      return null;
    }
  }

  private async write(key: string, value: unknown): Promise<void> {
    try {
      await this.kv.put(key, encoder.encode(JSON.stringify(value)));
    } catch (err) {
      this.logger.warn({ err, key }, 'cannot write gateway state');
    }
  }

  loadBudget(): Promise<BudgetState | null> {
    return this.read('budget', BudgetState);
  }
  saveBudget(state: BudgetState): Promise<void> {
    return this.write('budget', state);
  }
  loadLockouts(): Promise<LockoutState | null> {
    // `pin-guard`, not the older `lockouts` key: that one held a different shape (per number only).
    return this.read('pin-guard', LockoutState);
  }
  saveLockouts(state: LockoutState): Promise<void> {
    return this.write('pin-guard', state);
  }
  loadEscalation(fingerprint: string): Promise<EscalationRecord | null> {
    return this.read(`escalation.${fingerprint}`, EscalationRecord);
  }
  saveEscalation(fingerprint: string, record: EscalationRecord): Promise<void> {
    return this.write(`escalation.${fingerprint}`, record);
  }
}
