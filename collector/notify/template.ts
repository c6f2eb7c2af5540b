import type { Template } from 'liquidjs';
import { compileTemplate, renderStrict } from '../../shared/liquid.ts';
import { alertmanagerTemplateData, counter, initCounter, type Logger, type Registry } from '../../shared/index.ts';
import { alertmanagerPayload } from './alertmanager-payload.ts';
import { headline } from './text.ts';
import type { NotificationBatch } from './types.ts';

export { compileTemplate, renderLenient, TemplateSource, templateVariables } from '../../shared/liquid.ts';

/**
 * Alertmanager's template data (shared/alertmanager-data.ts), built from the same payload the webhook sends, so a
 * batch of one and a group give the same names. offhook adds `.Reason`, `.FallbackReason` and `.Headline` (the
 * default one-line text).
 */
export function templateData(batch: NotificationBatch): Record<string, unknown> {
  return alertmanagerTemplateData(alertmanagerPayload(batch), {
    Reason: batch.reason,
    FallbackReason: batch.fallbackReason ?? '',
    Headline: headline(batch),
  });
}

export interface TemplateRenderer {
  /**
   * Renders `source` (or returns `fallback()` when no template is set). A render error (strict variable missing,
   * filter failing on this data) must not lose the notification: the default text goes out, the failure is logged
   * with the fingerprints and counted in offhook_notification_template_failures_total{receiver,field}.
   */
  render(field: string, source: string | undefined, batch: NotificationBatch, fallback: () => string): string;
}

/**
 * `fields`: the template fields this receiver has configured; each gets a 0 sample at start, so the failure series
 * exists before the first failure (a Grafana panel or an alerting rule on it does not see "No data").
 */
export function templateRenderer(
  receiver: string,
  logger: Logger,
  registry: Registry,
  fields: readonly string[] = [],
): TemplateRenderer {
  const failures = counter(
    registry,
    'offhook_notification_template_failures_total',
    'Notification templates that failed to render; the default text was sent instead',
    ['receiver', 'field'],
  );
  initCounter(
    failures,
    fields.map((field) => ({ receiver, field })),
  );
  const compiled = new Map<string, Template[]>();
  return {
    render(field, source, batch, fallback) {
      if (source === undefined) return fallback();
      try {
        let parsed = compiled.get(source);
        if (!parsed) {
          parsed = compileTemplate(source);
          compiled.set(source, parsed);
        }
        return renderStrict(parsed, templateData(batch));
      } catch (err) {
        failures.inc({ receiver, field });
        const fingerprints = batch.alerts.map((a) => a.fingerprint);
        logger.warn({ err, receiver, field, fingerprints }, 'notification template failed; sent the default text');
        return fallback();
      }
    },
  };
}
