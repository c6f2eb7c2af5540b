import type { Template } from 'liquidjs';
import { type Alert, counter, initCounter, type Logger, type Registry } from '../../shared/index.ts';
import { compileTemplate, renderStrict } from '../../shared/liquid.ts';

/** Go's zero time, which Alertmanager sends as endsAt of a firing alert. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

const common = (maps: Record<string, string>[]): Record<string, string> => {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
};

/**
 * The collector's template data model (Alertmanager's names) for the alerts of one call, so a template written for a
 * receiver reads the same here. The gateway has no receiver, group or console URL: `Receiver` is
 * `telephony-gateway`, `GroupLabels` is empty, `GroupKey` and `ExternalURL`/`GeneratorURL` are empty strings.
 * `Headline` is the built-in spoken message.
 */
export function callTemplateData(alerts: readonly Alert[], builtIn: string): Record<string, unknown> {
  const list = alerts.map((alert) => ({
    Status: alert.status,
    Labels: { ...alert.labels, alertname: alert.rule, host: alert.host, severity: alert.severity },
    Annotations: { summary: alert.summary, ...(alert.value === null ? {} : { value: String(alert.value) }) },
    StartsAt: new Date(alert.startsAt).toISOString(),
    EndsAt: alert.status === 'firing' || alert.endsAt === 0 ? ZERO_TIME : new Date(alert.endsAt).toISOString(),
    GeneratorURL: '',
    Fingerprint: alert.fingerprint,
  }));
  return {
    Receiver: 'telephony-gateway',
    Status: list.some((a) => a.Status === 'firing') ? 'firing' : 'resolved',
    Alerts: Object.assign([...list], {
      Firing: list.filter((a) => a.Status === 'firing'),
      Resolved: list.filter((a) => a.Status === 'resolved'),
    }),
    GroupKey: '',
    GroupLabels: {},
    CommonLabels: common(list.map((a) => a.Labels)),
    CommonAnnotations: common(list.map((a) => a.Annotations)),
    ExternalURL: '',
    Reason: 'call',
    FallbackReason: '',
    Headline: builtIn,
  };
}

/**
 * The spoken message from `speech.templates.message`. Its output is untrusted text for the speech engine like any
 * summary, so the caller sanitises it after rendering. A render failure speaks the built-in message, logged with the
 * fingerprints and counted in offhook_notification_template_failures_total{receiver="telephony-gateway"}.
 */
export function callTemplate(
  source: string,
  logger: Logger,
  registry: Registry,
): (alerts: readonly Alert[], builtIn: string) => string {
  const receiver = 'telephony-gateway';
  const field = 'speech.message';
  const failures = counter(
    registry,
    'offhook_notification_template_failures_total',
    'Notification templates that failed to render; the default text was sent instead',
    ['receiver', 'field'],
  );
  initCounter(failures, [{ receiver, field }]);
  const parsed: Template[] = compileTemplate(source);
  return (alerts, builtIn) => {
    try {
      return renderStrict(parsed, callTemplateData(alerts, builtIn));
    } catch (err) {
      failures.inc({ receiver, field });
      const fingerprints = alerts.map((a) => a.fingerprint);
      logger.warn({ err, field, fingerprints }, 'call message template failed; spoke the built-in message');
      return builtIn;
    }
  };
}
