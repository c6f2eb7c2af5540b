import {
  Ack,
  CallOutcome,
  Counter,
  FallbackReason,
  Gauge,
  Histogram,
  initCounter,
  labelProduct,
  type Registry,
} from '../../shared/index.ts';
import type { LimitName } from '../calls/budget.ts';
import type { FinishReason } from '../intake/intake.ts';

const DIRECTIONS = ['outbound', 'inbound'] as const;
const TOTAL_LIMITS = [
  'calls_per_hour',
  'calls_per_day',
  'call_minutes_per_day',
  'cost_per_day',
] as const satisfies readonly LimitName[];
const NUMBER_LIMITS = [
  'number_calls_per_minute',
  'number_calls_per_15m',
  'number_calls_per_hour',
  'number_calls_per_day',
] as const satisfies readonly LimitName[];
const FINISH_REASONS: readonly FinishReason[] = [
  'acknowledged',
  'resolved',
  'inhibited',
  'nobody_answered',
  'quiet_hours',
  'budget_exhausted',
];
/** The reasons the max_unannounced sweep gives (unannounced.ts). */
const UNANNOUNCED_REASONS: readonly FallbackReason[] = [
  'per_number_limit',
  'escalation_wait',
  'line_busy',
  'quiet_hours',
];
const REJECTED_REASONS = ['unknown', 'withheld', 'pin_attempts_cap', 'locked_out'] as const;

/**
 * Everything an operator graphs about the gateway: calls, cost, queue, latency, acks and budget. Every counter starts
 * at 0 for each label value it can take. Money is in `currency` (budget.currency), named by the `currency` label.
 */
export function gatewayMetrics(registry: Registry, currency = 'EUR') {
  const registers = [registry];
  const metrics = {
    calls: new Counter({
      name: 'offhook_gateway_calls_total',
      help: 'Call attempts by direction and outcome',
      labelNames: ['direction', 'outcome'] as const,
      registers,
    }),
    callSeconds: new Counter({
      name: 'offhook_gateway_call_seconds_total',
      help: 'Seconds the line was off hook for calls',
      labelNames: ['direction'] as const,
      registers,
    }),
    callDuration: new Histogram({
      name: 'offhook_gateway_call_duration_seconds',
      help: 'Duration of one call attempt',
      labelNames: ['direction'] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300],
      registers,
    }),
    estimatedCost: new Counter({
      name: 'offhook_gateway_estimated_cost_currency_total',
      help: 'Estimated charges of placed calls, in units of the currency label (budget.currency)',
      labelNames: ['currency'] as const,
      registers,
    }).labels({ currency }),
    queueDepth: new Gauge({
      name: 'offhook_gateway_queue_depth',
      help: 'Alerts waiting for or in escalation',
      registers,
    }),
    alertToOffHook: new Histogram({
      name: 'offhook_gateway_alert_to_offhook_seconds',
      help: 'From alert receipt to the line going off hook for its first call',
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    acks: new Counter({
      name: 'offhook_gateway_acks_total',
      help: 'Acknowledgements seen, by method',
      labelNames: ['method'] as const,
      registers,
    }),
    budgetCalls: new Gauge({
      name: 'offhook_gateway_budget_remaining_calls',
      help: 'Calls left under max_calls_per_hour and max_calls_per_day (-1 = that limit is off)',
      labelNames: ['limit'] as const,
      registers,
    }),
    // Seconds, not minutes: promtool insists on base units; the limit is counted in whole billed minutes.
    budgetSeconds: new Gauge({
      name: 'offhook_gateway_budget_remaining_seconds',
      help: 'Billed call time left today under max_call_minutes_per_day, in seconds (billed minutes x 60; -1 = off)',
      labelNames: ['limit'] as const,
      registers,
    }),
    budgetMoney: new Gauge({
      name: 'offhook_gateway_budget_remaining_currency',
      help: 'Call charges left today under max_cost_per_day, in units of the currency label (-1 = off)',
      labelNames: ['limit', 'currency'] as const,
      registers,
    }),
    budgetExhausted: new Counter({
      name: 'offhook_gateway_budget_exhausted_total',
      help: 'Calls not placed because a limit was reached',
      labelNames: ['scope', 'limit'] as const,
      registers,
    }),
    fallbacks: new Counter({
      name: 'offhook_gateway_fallbacks_total',
      help: 'Alerts handed to the fallback notifiers, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    unannounced: new Counter({
      name: 'offhook_gateway_unannounced_fallbacks_total',
      help: 'Alerts sent to fallback for being unannounced longer than max_unannounced, by why they were held',
      labelNames: ['reason'] as const,
      registers,
    }),
    endedWriteRetries: new Counter({
      name: 'offhook_gateway_ended_write_retries_total',
      help:
        'Ended escalations written to KV again after KV refused the first write or the gateway restarted before it ' +
        'took it, by result (written, failed = will retry)',
      labelNames: ['result'] as const,
      registers,
    }),
    escalations: new Counter({
      name: 'offhook_gateway_escalations_finished_total',
      help: 'Finished escalations by how they ended',
      labelNames: ['result'] as const,
      registers,
    }),
    pinFailures: new Counter({
      name: 'offhook_gateway_inbound_pin_failures_total',
      help: 'Wrong PINs entered on inbound calls',
      registers,
    }),
    pinAttempts: new Counter({
      name: 'offhook_gateway_inbound_pin_attempts_total',
      help: 'PIN attempts on inbound calls (right or wrong)',
      registers,
    }),
    pinAttemptsLastHour: new Gauge({
      name: 'offhook_gateway_inbound_pin_attempts_last_hour',
      help: 'PIN attempts in the rolling hour (inbound.max_pin_attempts_per_hour caps it)',
      registers,
    }),
    lockedOut: new Gauge({
      name: 'offhook_gateway_inbound_locked_out',
      help: 'Caller IDs and people locked out now',
      labelNames: ['scope'] as const,
      registers,
    }),
    lockouts: new Counter({
      name: 'offhook_gateway_inbound_lockouts_total',
      help: 'Callers locked out after too many wrong PINs',
      registers,
    }),
    rejectedCallers: new Counter({
      name: 'offhook_gateway_inbound_rejected_total',
      help: 'Inbound calls hung up on (unknown, withheld or locked out)',
      labelNames: ['reason'] as const,
      registers,
    }),
    lineUp: new Gauge({
      name: 'offhook_gateway_line_up',
      help: '0 after a call found no dial tone, 1 once one succeeds',
      registers,
    }),
  };
  metrics.estimatedCost.inc(0);
  initCounter(metrics.calls, labelProduct({ direction: DIRECTIONS, outcome: CallOutcome.options }));
  initCounter(metrics.callSeconds, labelProduct({ direction: DIRECTIONS }));
  initCounter(metrics.acks, labelProduct({ method: Ack.shape.method.options }));
  initCounter(metrics.budgetExhausted, [
    ...labelProduct({ scope: ['total'], limit: TOTAL_LIMITS }),
    ...labelProduct({ scope: ['number'], limit: NUMBER_LIMITS }),
  ]);
  initCounter(metrics.fallbacks, labelProduct({ reason: FallbackReason.options }));
  initCounter(metrics.unannounced, labelProduct({ reason: UNANNOUNCED_REASONS }));
  initCounter(metrics.escalations, labelProduct({ result: FINISH_REASONS }));
  initCounter(metrics.endedWriteRetries, labelProduct({ result: ['written', 'failed'] }));
  initCounter(metrics.rejectedCallers, labelProduct({ reason: REJECTED_REASONS }));
  return {
    ...metrics,
    currency,
    /** Sets the three budget gauges from Budget.remaining(); an infinite remainder (limit off) shows as -1. */
    setBudgetRemaining(remaining: Record<(typeof TOTAL_LIMITS)[number], number>): void {
      const shown = (value: number): number => (Number.isFinite(value) ? value : -1);
      metrics.budgetCalls.set({ limit: 'calls_per_hour' }, shown(remaining.calls_per_hour));
      metrics.budgetCalls.set({ limit: 'calls_per_day' }, shown(remaining.calls_per_day));
      const minutes = remaining.call_minutes_per_day;
      metrics.budgetSeconds.set({ limit: 'call_minutes_per_day' }, Number.isFinite(minutes) ? minutes * 60 : -1);
      metrics.budgetMoney.set({ limit: 'cost_per_day', currency }, shown(remaining.cost_per_day));
    },
  };
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;
