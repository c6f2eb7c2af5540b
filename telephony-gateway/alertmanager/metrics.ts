import { Counter, initCounter, labelProduct, type Registry } from '../../shared/index.ts';
import { DROP_REASONS } from './dedup.ts';
import type { PayloadProblem } from './payload.ts';
import type { Outcome } from './webhook.ts';

/** The label values below, as webhook.ts, payload.ts, index.ts and silencer.ts use them. */
const OUTCOMES = [
  'accepted',
  'unauthorized',
  'too_large',
  'unsupported_media_type',
  'invalid_payload',
  'method_not_allowed',
  'not_found',
  'unavailable',
  'error',
] as const satisfies readonly Outcome[];
const PAYLOAD_REASONS = [
  'not_json',
  'not_utf8',
  'prototype_key',
  'unsupported_version',
  'invalid_field',
] as const satisfies readonly PayloadProblem['reason'][];

/** What an operator graphs about the Alertmanager bridge: who knocked, what got in, what was silenced. */
export function bridgeMetrics(registry: Registry) {
  const registers = [registry];
  const metrics = {
    requests: new Counter({
      name: 'offhook_gateway_alertmanager_requests_total',
      help:
        'Webhook requests by outcome (accepted, unauthorized, too_large, ' +
        'unsupported_media_type, invalid_payload, method_not_allowed, not_found, unavailable, error)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    invalidPayloads: new Counter({
      name: 'offhook_gateway_alertmanager_invalid_payloads_total',
      help:
        'Webhook bodies rejected with 400, by reason (not_json, not_utf8, prototype_key, ' +
        'unsupported_version, invalid_field)',
      labelNames: ['reason'] as const,
      registers,
    }),
    alerts: new Counter({
      name: 'offhook_gateway_alertmanager_alerts_total',
      help:
        'Alerts received from Alertmanager by status and result (queued = handed to the call ' +
        'queue, duplicate = a retry already handled)',
      labelNames: ['status', 'result'] as const,
      registers,
    }),
    dropped: new Counter({
      name: 'offhook_gateway_alertmanager_dropped_total',
      help:
        'Alerts of a notification not handed to the queue, by reason (duplicate = the same firing or resolve ' +
        'within dedup_window, also after a restart; superseded = older than one already handed over)',
      labelNames: ['reason'] as const,
      registers,
    }),
    silences: new Counter({
      name: 'offhook_gateway_alertmanager_silences_total',
      help:
        'Silences for acknowledged alerts by result (created, failed = will retry, gave_up, ' +
        'skipped = already silenced)',
      labelNames: ['result'] as const,
      registers,
    }),
  };
  // Known label values start at 0, so a fresh bridge graphs 0 rather than "No data".
  initCounter(metrics.requests, labelProduct({ outcome: OUTCOMES }));
  initCounter(metrics.invalidPayloads, labelProduct({ reason: PAYLOAD_REASONS }));
  initCounter(metrics.alerts, labelProduct({ status: ['firing', 'resolved'], result: ['queued', 'duplicate'] }));
  initCounter(metrics.dropped, labelProduct({ reason: DROP_REASONS }));
  initCounter(metrics.silences, labelProduct({ result: ['created', 'failed', 'gave_up', 'skipped'] }));
  return metrics;
}
export type BridgeMetrics = ReturnType<typeof bridgeMetrics>;
