import { readFileSync } from 'node:fs';
import * as z from 'zod';
import type { HttpAnswer } from './http-request.ts';
import type { NotifyOutcome } from './types.ts';

/** Options shared by the HTTP receivers (webhook, http-get). */
export const HttpClientOptions = {
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  headers: z
    .record(
      z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'header names are letters, digits and "-"' }),
      z.string().regex(/^[^\r\n]*$/, { error: 'header values are one line' }),
    )
    .default({}),
  basic_auth: z
    .object({ username: z.string(), password: z.string().optional(), password_file: z.string().optional() })
    .strict()
    .optional(),
  /** File holding a bearer token, so the secret stays out of collector.yaml. */
  bearer_token_file: z.string().optional(),
};

type HttpOptions = {
  headers: Record<string, string>;
  basic_auth?: { username: string; password?: string | undefined; password_file?: string | undefined } | undefined;
  bearer_token_file?: string | undefined;
};

/** Request headers with credentials read now (files are re-read on every send so rotation needs no restart). */
export function requestHeaders(options: HttpOptions): Record<string, string> {
  const headers: Record<string, string> = { 'User-Agent': 'offhook-collector', ...options.headers };
  if (options.basic_auth) {
    const password = options.basic_auth.password_file
      ? readFileSync(options.basic_auth.password_file, 'utf8').trim()
      : (options.basic_auth.password ?? '');
    headers.Authorization = `Basic ${Buffer.from(`${options.basic_auth.username}:${password}`).toString('base64')}`;
  }
  if (options.bearer_token_file)
    headers.Authorization = `Bearer ${readFileSync(options.bearer_token_file, 'utf8').trim()}`;
  return headers;
}

/** Alertmanager's rule: 5xx and 429 are worth retrying, other non-2xx answers are not. */
export function httpOutcome(answer: HttpAnswer): NotifyOutcome {
  if (answer.status >= 200 && answer.status < 300) return { ok: true };
  const retry = answer.status >= 500 || answer.status === 429;
  return { ok: false, retry, error: `HTTP ${answer.status}${answer.body ? `: ${answer.body}` : ''}` };
}

/** Network errors (refused, reset, DNS) are transient; a bad credentials file is not. */
export function httpFailure(err: unknown): NotifyOutcome {
  const error = err as NodeJS.ErrnoException & { cause?: Error };
  if (error.code === 'ENOENT' || error.code === 'EACCES')
    return { ok: false, retry: false, error: `cannot read credentials: ${error.message}` };
  return { ok: false, retry: true, error: error.cause?.message ?? error.message };
}
