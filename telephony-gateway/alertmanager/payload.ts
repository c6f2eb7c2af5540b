import { AlertmanagerPayload, formatZodIssueLines } from '../../shared/index.ts';

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
): { ok: true; payload: AlertmanagerPayload } | { ok: false; problem: PayloadProblem } {
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
  const parsed = AlertmanagerPayload.safeParse(json);
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
