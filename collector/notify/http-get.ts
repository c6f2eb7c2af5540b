import * as z from 'zod';
import { rfc3339 } from '../../shared/index.ts';
import { HttpClientOptions, httpFailure, httpOutcome, requestHeaders } from './http-common.ts';
import { sendHttp } from './http-request.ts';
import { alertKeys, idempotencyHeaders } from './idempotency.ts';
import { TemplateSource, templateRenderer } from './template.ts';
import { alertUrl } from './text.ts';
import { defineNotifier } from './types.ts';

/**
 * GETs a URL once per alert with the alert as query parameters (App::MadEye's Notify::HTTP):
 * for SMS gateways and home-made endpoints that only take a query string.
 * URLSearchParams percent-encodes every value, so alert text cannot add or alter parameters.
 */
export const httpGetPlugin = defineNotifier({
  kind: 'http-get',
  configSchema: z.object({
    ...HttpClientOptions,
    /** Fixed parameters added to every request (an API key, a recipient). */
    params: z.record(z.string().min(1), z.string()).default({}),
    /** `summary`: a Liquid template (README "Templates") over a batch of this one alert, sent as `summary`. */
    templates: z.object({ summary: TemplateSource.optional() }).strict().optional(),
  }),
  create(config, deps) {
    const templates = templateRenderer(
      deps.receiverName ?? 'http-get',
      deps.logger,
      deps.registry,
      Object.keys(config.templates ?? {}),
    );
    return {
      async notify(batch, signal) {
        const keys = alertKeys(batch);
        for (const [i, alert] of batch.alerts.entries()) {
          const url = new URL(config.url);
          const params: Record<string, string> = {
            ...config.params,
            status: alert.status,
            reason: batch.reason,
            severity: alert.severity,
            host: alert.host,
            rule: alert.rule,
            summary: templates.render(
              'summary',
              config.templates?.summary,
              // This alert's key only: the batch's keys are indexed by its alerts.
              { ...batch, status: alert.status, alerts: [alert], idempotencyKeys: keys[i] ? [keys[i]] : [] },
              () => alert.summary,
            ),
            value: alert.value === null ? '' : String(alert.value),
            fingerprint: alert.fingerprint,
            generation: String(alert.generation),
            startsAt: rfc3339(alert.startsAt),
            url: alertUrl(batch.externalUrl, alert),
            ...(batch.reason === 'fallback' ? { fallback_reason: batch.fallbackReason ?? 'unspecified' } : {}),
          };
          for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
          try {
            // One request per alert, so each carries its own alert's key.
            const headers = { ...requestHeaders(config), ...idempotencyHeaders(keys[i]) };
            const answer = await sendHttp(url, { method: 'GET', headers, signal });
            const outcome = httpOutcome(answer);
            if (!outcome.ok) return outcome;
          } catch (err) {
            return httpFailure(err);
          }
        }
        return { ok: true };
      },
    };
  },
});
