import { Counter, type Registry } from '../../shared/index.ts';

/** What an operator graphs about the Alertmanager bridge: who knocked, what got in, what was silenced. */
export function bridgeMetrics(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'offhook_gateway_alertmanager_requests_total',
      help: 'Webhook requests by outcome (accepted, unauthorized, too_large, unsupported_media_type, invalid_payload, method_not_allowed, not_found, unavailable, error)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    invalidPayloads: new Counter({
      name: 'offhook_gateway_alertmanager_invalid_payloads_total',
      help: 'Webhook bodies rejected with 400, by reason (not_json, not_utf8, prototype_key, unsupported_version, invalid_field)',
      labelNames: ['reason'] as const,
      registers,
    }),
    alerts: new Counter({
      name: 'offhook_gateway_alertmanager_alerts_total',
      help: 'Alerts received from Alertmanager by status and result (queued = handed to the call queue, duplicate = a retry already handled)',
      labelNames: ['status', 'result'] as const,
      registers,
    }),
    silences: new Counter({
      name: 'offhook_gateway_alertmanager_silences_total',
      help: 'Silences for acknowledged alerts by result (created, failed = will retry, gave_up, skipped = already silenced)',
      labelNames: ['result'] as const,
      registers,
    }),
  };
}
export type BridgeMetrics = ReturnType<typeof bridgeMetrics>;
