import { Counter, Gauge, Histogram, type Registry } from '../shared/index.ts';

/** Everything an operator graphs about the gateway: calls, cost, queue, latency, acks and budget. */
export function gatewayMetrics(registry: Registry) {
  const registers = [registry];
  return {
    calls: new Counter({ name: 'offhook_gateway_calls_total', help: 'Call attempts by direction and outcome', labelNames: ['direction', 'outcome'] as const, registers }),
    callSeconds: new Counter({ name: 'offhook_gateway_call_seconds_total', help: 'Seconds the line was off hook for calls', labelNames: ['direction'] as const, registers }),
    callDuration: new Histogram({ name: 'offhook_gateway_call_duration_seconds', help: 'Duration of one call attempt', labelNames: ['direction'] as const, buckets: [1, 5, 15, 30, 60, 120, 300], registers }),
    estimatedCost: new Counter({ name: 'offhook_gateway_estimated_cost_total', help: 'Estimated cost of placed calls (budget.currency)', registers }),
    queueDepth: new Gauge({ name: 'offhook_gateway_queue_depth', help: 'Alerts waiting for or in escalation', registers }),
    alertToOffHook: new Histogram({
      name: 'offhook_gateway_alert_to_offhook_seconds',
      help: 'From alert receipt to the line going off hook for its first call',
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    }),
    acks: new Counter({ name: 'offhook_gateway_acks_total', help: 'Acknowledgements seen, by method', labelNames: ['method'] as const, registers }),
    budgetRemaining: new Gauge({ name: 'offhook_gateway_budget_remaining', help: 'What is left of each call limit (-1 = that limit is off)', labelNames: ['limit'] as const, registers }),
    budgetExhausted: new Counter({ name: 'offhook_gateway_budget_exhausted_total', help: 'Calls not placed because a limit was reached', labelNames: ['scope', 'limit'] as const, registers }),
    fallbacks: new Counter({ name: 'offhook_gateway_fallbacks_total', help: 'Alerts handed to the fallback notifiers, by reason', labelNames: ['reason'] as const, registers }),
    unannounced: new Counter({
      name: 'offhook_gateway_unannounced_fallbacks_total',
      help: 'Alerts sent to fallback for being unannounced longer than max_unannounced, by why they were held',
      labelNames: ['reason'] as const,
      registers,
    }),
    escalations: new Counter({ name: 'offhook_gateway_escalations_finished_total', help: 'Finished escalations by how they ended', labelNames: ['result'] as const, registers }),
    pinFailures: new Counter({ name: 'offhook_gateway_inbound_pin_failures_total', help: 'Wrong PINs entered on inbound calls', registers }),
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
    lockouts: new Counter({ name: 'offhook_gateway_inbound_lockouts_total', help: 'Callers locked out after too many wrong PINs', registers }),
    rejectedCallers: new Counter({ name: 'offhook_gateway_inbound_rejected_total', help: 'Inbound calls hung up on (unknown, withheld or locked out)', labelNames: ['reason'] as const, registers }),
    lineUp: new Gauge({ name: 'offhook_gateway_line_up', help: '0 after a call found no dial tone, 1 once one succeeds', registers }),
  };
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;
