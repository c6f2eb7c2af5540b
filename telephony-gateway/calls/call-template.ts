import type { Template } from 'liquidjs';
import {
  type Alert,
  alertmanagerAlert,
  alertmanagerTemplateData,
  commonPairs,
  counter,
  initCounter,
  type Logger,
  type Registry,
} from '../../shared/index.ts';
import { compileTemplate, renderStrict } from '../../shared/liquid.ts';

/**
 * The collector's template data model (Alertmanager's names, shared/alertmanager-data.ts) for the alerts of one
 * call, so a template written for a receiver reads the same here. The gateway has no receiver, group or console URL:
 * `Receiver` is `telephony-gateway`, `GroupLabels` is empty, `GroupKey` and `ExternalURL`/`GeneratorURL` are empty
 * strings. `Headline` is the built-in spoken message.
 */
export function callTemplateData(alerts: readonly Alert[], builtIn: string): Record<string, unknown> {
  const list = alerts.map((alert) => alertmanagerAlert(alert, ''));
  return alertmanagerTemplateData(
    {
      receiver: 'telephony-gateway',
      status: list.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      groupKey: '',
      groupLabels: {},
      commonLabels: commonPairs(list.map((a) => a.labels)),
      commonAnnotations: commonPairs(list.map((a) => a.annotations)),
      externalURL: '',
      alerts: list,
    },
    { Reason: 'call', FallbackReason: '', Headline: builtIn },
  );
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
