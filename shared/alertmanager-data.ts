import { rfc3339 } from './clock.ts';
import type { Alert } from './schemas/alert.ts';
import { type AlertmanagerAlertJson, type AlertmanagerPayloadJson, GO_ZERO_TIME } from './schemas/alertmanager.ts';

// Alertmanager's view of offhook alerts, built once for the collector (webhook, exec, notification templates) and
// the gateway (the spoken message's template), so a template reads the same names with the same values in both.

/** The labels Alertmanager would see: our own fields win over same-named labels (receivers route on them). */
export const alertmanagerLabels = (alert: Alert): Record<string, string> => ({
  ...alert.labels,
  alertname: alert.rule,
  host: alert.host,
  severity: alert.severity,
});

/** One alert as Alertmanager sends it; `annotations` come after summary and value (the collector's own ones). */
export function alertmanagerAlert(
  alert: Alert,
  generatorURL: string,
  annotations: Record<string, string> = {},
): AlertmanagerAlertJson {
  return {
    status: alert.status,
    labels: alertmanagerLabels(alert),
    annotations: {
      summary: alert.summary,
      ...(alert.value === null ? {} : { value: String(alert.value) }),
      ...annotations,
    },
    startsAt: rfc3339(alert.startsAt),
    endsAt: alert.status === 'firing' || alert.endsAt === 0 ? GO_ZERO_TIME : rfc3339(alert.endsAt),
    generatorURL,
    fingerprint: alert.fingerprint,
  };
}

/** The pairs every map holds with the same value (commonLabels, commonAnnotations). */
export function commonPairs(maps: readonly Record<string, string>[]): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

/** What a template's data is made of: the webhook payload's fields except its version and truncation count. */
export type TemplatePayload = Omit<AlertmanagerPayloadJson, 'version' | 'truncatedAlerts'>;

/**
 * Alertmanager's template data (`.Receiver`, `.Status`, `.Alerts`, `.Alerts.Firing`, `.Alerts.Resolved`,
 * `.GroupKey`, `.GroupLabels`, `.CommonLabels`, `.CommonAnnotations`, `.ExternalURL`; per alert `.Status`, `.Labels`,
 * `.Annotations`, `.StartsAt`, `.EndsAt`, `.GeneratorURL`, `.Fingerprint`) from a payload, plus each side's `extras`.
 */
export function alertmanagerTemplateData(
  payload: TemplatePayload,
  extras: Record<string, unknown>,
): Record<string, unknown> {
  const alerts = payload.alerts.map((alert) => ({
    Status: alert.status,
    Labels: alert.labels,
    Annotations: alert.annotations,
    StartsAt: alert.startsAt,
    EndsAt: alert.endsAt,
    GeneratorURL: alert.generatorURL,
    Fingerprint: alert.fingerprint,
  }));
  return {
    Receiver: payload.receiver,
    Status: payload.status,
    Alerts: Object.assign([...alerts], {
      Firing: alerts.filter((a) => a.Status === 'firing'),
      Resolved: alerts.filter((a) => a.Status === 'resolved'),
    }),
    GroupKey: payload.groupKey,
    GroupLabels: payload.groupLabels,
    CommonLabels: payload.commonLabels,
    CommonAnnotations: payload.commonAnnotations,
    ExternalURL: payload.externalURL,
    ...extras,
  };
}
