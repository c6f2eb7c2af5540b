import { fingerprint as makeFingerprint, newId, type Alert, type Clock } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { OutboundResult } from '../calls/call-script.ts';
import type { GatewayMetrics } from '../status/metrics.ts';
import type { GatewayPublisher } from '../status/publisher.ts';

/** One call as it is recorded, of any kind. */
export interface CallEntry {
  person?: string;
  number: string;
  alerts: Alert[];
  /** The alerts the call was about, when not `alerts` (an inbound call's acknowledged alerts). */
  fingerprints?: string[];
  attempt: number;
  outcome: OutboundResult['outcome'];
  digits: string;
  durationMs: number;
  cost: number;
  error?: string;
}

/** What every call leaves behind: its metrics, its `CallRecord` on CALLS, and the budget gauges it changed. */
export class CallRecords {
  /** The subject token for a call about no alert (an inbound call that acknowledged nothing). */
  private readonly inboundFingerprint: string;

  constructor(
    private readonly parts: {
      gatewayHost: string;
      budget: Budget;
      publisher: GatewayPublisher;
      metrics: GatewayMetrics;
      clock: Clock;
      /** The text of the prompts played in the call (line-activity.ts), for the web console. */
      activity?: { takeSpoken(): Promise<string[]> };
    },
  ) {
    this.inboundFingerprint = makeFingerprint(parts.gatewayHost, 'inbound-call');
  }

  async record(call: CallEntry, direction: 'outbound' | 'inbound' = 'outbound'): Promise<void> {
    const { metrics, publisher } = this.parts;
    metrics.calls.inc({ direction, outcome: call.outcome });
    metrics.callSeconds.inc({ direction }, call.durationMs / 1000);
    metrics.callDuration.observe({ direction }, call.durationMs / 1000);
    const fingerprints = call.fingerprints ?? call.alerts.map((a) => a.fingerprint);
    const spoken = (await this.parts.activity?.takeSpoken()) ?? [];
    await publisher.callRecord(
      {
        callId: newId(),
        direction,
        fingerprints: fingerprints.slice(0, 1000),
        ...(call.person ? { person: call.person } : {}),
        number: call.number.slice(0, 64),
        attempt: call.attempt,
        outcome: call.outcome,
        digits: call.digits.slice(0, 64),
        durationMs: Math.round(call.durationMs),
        estimatedCost: call.cost,
        currency: this.parts.budget.currency,
        ...(call.error ? { error: call.error.slice(0, 1000) } : {}),
        ...(spoken.length > 0 ? { spoken } : {}),
      },
      fingerprints[0] ?? this.inboundFingerprint,
    );
  }

  updateBudgetGauges(): void {
    this.parts.metrics.setBudgetRemaining(this.parts.budget.remaining(this.parts.clock.now()));
  }
}
