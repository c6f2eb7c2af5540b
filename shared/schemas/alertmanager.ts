import { z } from 'zod';
import { Labels, formatZodIssueLines } from '../../shared/index.ts';

/** Go's zero time: Alertmanager's endsAt for an alert that is still firing. */
export const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time as Go marshals it (nanoseconds allowed), turned into epoch ms; the zero time stays recognisable. */
const Rfc3339 = z
  .string()
  .max(40)
  .regex(RFC3339_RE, { error: 'expected an RFC 3339 time such as "2024-05-01T10:00:00Z"' })
  .transform((text, ctx) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected a real date and time' });
      return z.NEVER;
    }
    return ms;
  });

/** Values we never read are still bounded so a hostile payload cannot make us hold megabytes per alert. */
const TextMap = z
  .record(z.string().max(256), z.string().max(64 * 1024))
  .refine((map) => Object.keys(map).length <= 256, { error: 'at most 256 entries' });

export const WebhookAlert = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: Labels,
  annotations: TextMap,
  startsAt: Rfc3339,
  endsAt: Rfc3339,
  generatorURL: z.string().max(8192).optional(),
  /** Sent by Alertmanager 0.19 and later: 16 hex digits, a hash of the label set. */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{1,16}$/, { error: 'expected up to 16 lowercase hex digits' })
    .optional(),
});
export type WebhookAlert = z.infer<typeof WebhookAlert>;

/** The Alertmanager webhook payload, version 4. Unknown extra fields (Grafana adds some) are allowed and ignored. */
export const WebhookPayload = z.object({
  version: z.literal('4', { error: 'expected "4" (the Alertmanager webhook payload version this gateway reads)' }),
  groupKey: z.string().max(64 * 1024),
  /** Added in Alertmanager 0.22; older versions do not send it. */
  truncatedAlerts: z.number().int().nonnegative().default(0),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().max(1024),
  groupLabels: TextMap,
  commonLabels: TextMap,
  commonAnnotations: TextMap,
  externalURL: z.string().max(8192),
  alerts: z
    .array(WebhookAlert)
    .max(10_000, { error: 'expected at most 10000 alerts per notification (set max_alerts on the receiver)' }),
});
export type WebhookPayload = z.infer<typeof WebhookPayload>;

export type PayloadProblem = {
  reason: 'not_json' | 'not_utf8' | 'prototype_key' | 'unsupported_version' | 'invalid_field';
  detail: string;
};

/** Keys that could reach an object's prototype when a payload is merged or copied somewhere later. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Walks the parsed JSON without recursion (a hostile body may nest thousands deep) and names the first forbidden key.
 */
function findForbiddenKey(root: unknown): string | null {
  const stack: Array<{ value: unknown; path: string }> = [{ value: root, path: '' }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) stack.push({ value: item, path: `${path}[${index}]` });
      continue;
    }
    for (const key of Object.keys(value)) {
      const here = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) return here;
      stack.push({ value: (value as Record<string, unknown>)[key], path: here });
    }
  }
  return null;
}

/** Parses and validates a webhook body; a problem names the field and what was expected. */
export function parsePayload(
  body: string,
): { ok: true; payload: WebhookPayload } | { ok: false; problem: PayloadProblem } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    return { ok: false, problem: { reason: 'not_json', detail: `body is not JSON: ${(err as Error).message}` } };
  }
  const forbidden = findForbiddenKey(json);
  if (forbidden)
    return {
      ok: false,
      problem: {
        reason: 'prototype_key',
        detail: `${forbidden}: the key ${JSON.stringify(forbidden.split(/[.[]/).at(-1))} is not allowed`,
      },
    };
  const parsed = WebhookPayload.safeParse(json);
  if (parsed.success) return { ok: true, payload: parsed.data };
  for (const issue of parsed.error.issues) {
    // zod reports a bad record key as "Invalid key in record"; the key's own rule says what is wrong with it.
    if (issue.code === 'invalid_key' && issue.issues[0])
      (issue as { message: string }).message = issue.issues[0].message;
  }
  const versionWrong = parsed.error.issues.some((issue) => issue.path.length === 1 && issue.path[0] === 'version');
  const lines = formatZodIssueLines(parsed.error, json);
  const detail = lines.slice(0, 5).join('; ') + (lines.length > 5 ? `; and ${lines.length - 5} more` : '');
  return { ok: false, problem: { reason: versionWrong ? 'unsupported_version' : 'invalid_field', detail } };
}
