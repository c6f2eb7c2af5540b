import * as z from 'zod';
import { alertmanagerPayload, FALLBACK_REASON_ANNOTATION } from './alertmanager-payload.ts';
import { HttpClientOptions, httpFailure, httpOutcome, requestHeaders } from './http-common.ts';
import { sendHttp } from './http-request.ts';
import { alertKeys, batchKey, idempotencyHeaders, NOTIFICATION_KEY_ANNOTATION } from './idempotency.ts';
import { TemplateSource, templateRenderer } from './template.ts';
import { defineNotifier, type NotificationBatch } from './types.ts';

/** Annotations offhook itself writes; a template replacing them would break idempotency or the fallback story. */
const RESERVED = new Set([NOTIFICATION_KEY_ANNOTATION, FALLBACK_REASON_ANNOTATION]);

/** Alertmanager's label/annotation name syntax, so the receiver can route on a templated annotation. */
const AnnotationName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'annotation names are [A-Za-z_][A-Za-z0-9_]*' })
  .refine((name) => !RESERVED.has(name), { error: 'this annotation is written by offhook; choose another name' });

/** The batch a per-alert template sees: this one alert, with its own idempotency key. */
function batchOfOne(batch: NotificationBatch, i: number, keys: (string | undefined)[]): NotificationBatch {
  const alert = batch.alerts[i]!;
  return { ...batch, status: alert.status, alerts: [alert], idempotencyKeys: keys[i] ? [keys[i]] : [] };
}

/** POSTs the Alertmanager webhook payload (version 4), so existing Alertmanager receivers work unchanged. */
export const webhookPlugin = defineNotifier({
  kind: 'webhook',
  configSchema: z.object({
    ...HttpClientOptions,
    /** At most this many alerts per payload (0 = all); the rest is reported in truncatedAlerts. */
    max_alerts: z.number().int().min(0).default(0),
    /**
     * `annotations`: name → Liquid template (README "Templates"), rendered per alert over a batch of that one alert
     * and set as that alert's annotation (replacing `summary` if so named); commonAnnotations follows.
     */
    templates: z
      .object({ annotations: z.record(AnnotationName, TemplateSource).optional() })
      .strict()
      .optional(),
  }),
  create(config, deps) {
    const sources = Object.entries(config.templates?.annotations ?? {});
    const fields = sources.map(([name]) => `annotations.${name}`);
    const templates = templateRenderer(deps.receiverName ?? 'webhook', deps.logger, deps.registry, fields);
    const annotator = (batch: NotificationBatch) => {
      if (sources.length === 0) return undefined;
      const keys = alertKeys(batch);
      return (i: number): Record<string, string> => {
        const one = batchOfOne(batch, i, keys);
        const built = alertmanagerPayload(one).alerts[0]!.annotations;
        // A failed render falls back to the annotation's built-in value, or leaves a new annotation empty.
        return Object.fromEntries(
          sources.map(([name, source]) => [
            name,
            templates.render(`annotations.${name}`, source, one, () => built[name] ?? ''),
          ]),
        );
      };
    };
    // Parsed once: a URL parse per POST was part of the way from the alert record's write to the webhook.
    const url = new URL(config.url);
    return {
      async notify(batch, signal) {
        try {
          return httpOutcome(
            await sendHttp(url, {
              method: 'POST',
              headers: {
                ...requestHeaders(config),
                ...idempotencyHeaders(batchKey(batch)),
                'Content-Type': 'application/json',
              },
              body: JSON.stringify(alertmanagerPayload(batch, config.max_alerts, annotator(batch))),
              signal,
            }),
          );
        } catch (err) {
          return httpFailure(err);
        }
      },
    };
  },
});
