import { z } from 'zod';
import { alertmanagerPayload } from './alertmanager-payload.ts';
import { HttpClientOptions, httpFailure, httpOutcome, requestHeaders } from './http-common.ts';
import { sendHttp } from './http-request.ts';
import { batchKey, idempotencyHeaders } from './idempotency.ts';
import { defineNotifier } from './types.ts';

/** POSTs the Alertmanager webhook payload (version 4), so existing Alertmanager receivers work unchanged. */
export const webhookPlugin = defineNotifier({
  kind: 'webhook',
  configSchema: z.object({
    ...HttpClientOptions,
    /** At most this many alerts per payload (0 = all); the rest is reported in truncatedAlerts. */
    max_alerts: z.number().int().min(0).default(0),
  }),
  create(config) {
    return {
      async notify(batch, signal) {
        try {
          return httpOutcome(
            await sendHttp(config.url, {
              method: 'POST',
              headers: {
                ...requestHeaders(config),
                ...idempotencyHeaders(batchKey(batch)),
                'Content-Type': 'application/json',
              },
              body: JSON.stringify(alertmanagerPayload(batch, config.max_alerts)),
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
