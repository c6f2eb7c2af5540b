import {
  type Alert,
  type AlertmanagerAlertJson,
  type AlertmanagerPayloadJson,
  GO_ZERO_TIME,
} from '../../shared/index.ts';
import { groupKeyOf } from './aggregation.ts';
import { goQuote } from './go-quote.ts';
import { alertKeys, NOTIFICATION_KEY_ANNOTATION } from './idempotency.ts';
import { alertUrl, rfc3339 } from './text.ts';
import type { NotificationBatch } from './types.ts';

/**
 * Builds Alertmanager's webhook payload (version 4, field for field) from a batch; the schema, shared with the gateway
 * that receives it, is shared/schemas/alertmanager.ts.
 */

/** The annotation (per alert, hence also in commonAnnotations) saying why the gateway did not phone. */
export const FALLBACK_REASON_ANNOTATION = 'offhook_fallback_reason';

/** The labels Alertmanager would see: our own fields win over same-named labels (receivers route on them). */
export const alertmanagerLabels = (alert: Alert): Record<string, string> => ({
  ...alert.labels,
  alertname: alert.rule,
  host: alert.host,
  severity: alert.severity,
});

export function alertmanagerAlert(
  alert: Alert,
  externalUrl: string,
  fallbackReason?: string,
  idempotencyKey?: string,
): AlertmanagerAlertJson {
  return {
    status: alert.status,
    labels: alertmanagerLabels(alert),
    annotations: {
      summary: alert.summary,
      ...(alert.value === null ? {} : { value: String(alert.value) }),
      ...(fallbackReason ? { [FALLBACK_REASON_ANNOTATION]: fallbackReason } : {}),
      ...(idempotencyKey ? { [NOTIFICATION_KEY_ANNOTATION]: idempotencyKey } : {}),
    },
    startsAt: rfc3339(alert.startsAt),
    endsAt: alert.status === 'firing' || alert.endsAt === 0 ? GO_ZERO_TIME : rfc3339(alert.endsAt),
    generatorURL: alertUrl(externalUrl, alert),
    fingerprint: alert.fingerprint,
  };
}

function common(maps: Record<string, string>[]): Record<string, string> {
  if (maps.length === 0) return {};
  const [first, ...rest] = maps;
  return Object.fromEntries(Object.entries(first!).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

/**
 * Builds the payload; `maxAlerts` > 0 truncates the list and reports how many were left out. `annotate(i)` adds
 * (or replaces) annotations of the i-th alert before commonAnnotations is computed (webhook templates).
 */
export function alertmanagerPayload(
  batch: NotificationBatch,
  maxAlerts = 0,
  annotate?: (index: number) => Record<string, string>,
): AlertmanagerPayloadJson {
  const why = batch.reason === 'fallback' ? (batch.fallbackReason ?? 'unspecified') : undefined;
  const keys = alertKeys(batch);
  const all = batch.alerts.map((a, i) => {
    const alert = alertmanagerAlert(a, batch.externalUrl, why, keys[i]);
    return annotate ? { ...alert, annotations: { ...alert.annotations, ...annotate(i) } } : alert;
  });
  const alerts = maxAlerts > 0 ? all.slice(0, maxAlerts) : all;
  const commonLabels = common(all.map((a) => a.labels));
  // A batch without a group (queued by an older version and resumed) keeps the old invented key.
  const groupLabels =
    batch.group?.labels ??
    Object.fromEntries(['alertname', 'host'].filter((k) => k in commonLabels).map((k) => [k, commonLabels[k]!]));
  const groupKey = batch.group?.key ?? groupKeyOf(`{}/{receiver=${goQuote(batch.receiver)}}`, groupLabels);
  return {
    version: '4',
    groupKey,
    truncatedAlerts: all.length - alerts.length,
    status: batch.status,
    receiver: batch.receiver,
    groupLabels,
    commonLabels,
    commonAnnotations: common(all.map((a) => a.annotations)),
    externalURL: batch.externalUrl,
    alerts,
  };
}
