import { type AlertmanagerPayloadJson, alertmanagerAlert, commonPairs } from '../../shared/index.ts';
import { groupKeyOf } from './aggregation.ts';
import { goQuote } from './go-quote.ts';
import { alertKeys, NOTIFICATION_KEY_ANNOTATION } from './idempotency.ts';
import { alertUrl } from './text.ts';
import type { NotificationBatch } from './types.ts';

/**
 * Builds Alertmanager's webhook payload (version 4, field for field) from a batch; the schema, shared with the gateway
 * that receives it, is shared/schemas/alertmanager.ts.
 */

/** The annotation (per alert, hence also in commonAnnotations) saying why the gateway did not phone. */
export const FALLBACK_REASON_ANNOTATION = 'offhook_fallback_reason';

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
    const alert = alertmanagerAlert(a, alertUrl(batch.externalUrl, a), {
      ...(why ? { [FALLBACK_REASON_ANNOTATION]: why } : {}),
      ...(keys[i] ? { [NOTIFICATION_KEY_ANNOTATION]: keys[i] } : {}),
    });
    return annotate ? { ...alert, annotations: { ...alert.annotations, ...annotate(i) } } : alert;
  });
  const alerts = maxAlerts > 0 ? all.slice(0, maxAlerts) : all;
  const commonLabels = commonPairs(all.map((a) => a.labels));
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
    commonAnnotations: commonPairs(all.map((a) => a.annotations)),
    externalURL: batch.externalUrl,
    alerts,
  };
}
