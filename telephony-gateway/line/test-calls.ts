import type { Clock, Logger } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { CallScript } from '../calls/call-script.ts';
import { TEST_CALL_TEXT } from '../calls/wording.ts';
import type { StateStore } from '../state-store.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { CallRecords } from './call-records.ts';
import type { LineOwner, LineUser, Turn } from './line-owner.ts';

export interface TestCallResult {
  outcome: string;
  digits: string;
  durationMs: number;
  detail?: string;
}

export interface TestCallParts {
  owner: LineOwner;
  budget: Budget;
  callScript: CallScript;
  records: CallRecords;
  store: StateStore;
  metrics: GatewayMetrics;
  logger: Logger;
  clock: Clock;
}

/** `offhook test-call NUMBER`: one call that says the line works, queued behind the call on the line, in the budget. */
export class TestCalls implements LineUser {
  private readonly waiting: Array<{ number: string; done: (result: TestCallResult) => void }> = [];

  constructor(private readonly parts: TestCallParts) {}

  request(number: string): Promise<TestCallResult> {
    return new Promise((done) => {
      this.waiting.push({ number, done });
      this.parts.owner.wake();
    });
  }

  turn(): Turn {
    const test = this.waiting.shift();
    if (!test) return null;
    return { call: async () => test.done(await this.place(test.number)) };
  }

  private async place(number: string): Promise<TestCallResult> {
    const { budget, clock, store, records } = this.parts;
    const decision = budget.check(number, clock.now());
    if (!decision.ok) return { outcome: 'rejected_budget', digits: '', durationMs: 0, detail: decision.detail };
    const placedAt = clock.now();
    budget.record({ at: placedAt, number, durationMs: 0, cost: 0 });
    const result = await this.parts.owner.offHook(() =>
      this.parts.callScript.run({ number, alerts: [], messageText: TEST_CALL_TEXT }),
    );
    const durationMs = Math.max(0, clock.now() - (result.offHookAt ?? placedAt));
    const cost = budget.finish(placedAt, number, durationMs);
    this.parts.metrics.estimatedCost.inc(cost);
    await store.saveBudget(budget.snapshot(clock.now()));
    records.updateBudgetGauges();
    await records.record({
      person: 'test call',
      number,
      alerts: [],
      attempt: 1,
      outcome: result.outcome,
      digits: result.digits,
      durationMs,
      cost,
      error: result.error,
    });
    this.parts.logger.info({ number, outcome: result.outcome, digits: result.digits }, 'test call finished');
    return {
      outcome: result.outcome,
      digits: result.digits,
      durationMs,
      ...(result.error ? { detail: result.error } : {}),
    };
  }
}
