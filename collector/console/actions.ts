import type { JetStreamClient } from '@nats-io/jetstream';
import {
  durationMessage,
  newId,
  publishDurable,
  readDuration,
  SCHEMA_VERSION,
  type Ack,
  type Subjects,
} from '../../shared/index.ts';
import type { AlertStore } from '../alerts/index.ts';
import { parseMatchers, type Matcher } from '../silences/index.ts';
import type { Silence } from '../silences/index.ts';
import type { SilenceStore } from '../silences/index.ts';
import type { SilenceRequest } from './api-schema.ts';

/** An action's result: done, or refused with a message naming the field and the fix (HTTP 400/404). */
export type ActionResult<T> = { ok: true; value: T } | { ok: false; status: 400 | 404 | 409; error: string };

export interface ActionDeps {
  js: JetStreamClient;
  subjects: Subjects;
  alerts: AlertStore;
  silences: SilenceStore;
  now: () => number;
}

/**
 * Acknowledges (the console and `offhook ack` both call this): an Ack on `<prefix>.v1.ack.<fp>` in the ACKS stream
 * for the alert's current generation, which the collector applies and the gateway watches (it drops or hangs up a
 * pending call). `until` 0 = until the alert resolves.
 */
export async function acknowledge(
  deps: Pick<ActionDeps, 'js' | 'subjects' | 'alerts' | 'now'>,
  input: { fingerprint: string; by: string; comment: string; method?: 'http' | 'cli'; until?: number },
): Promise<ActionResult<Ack & { alert: { host: string; rule: string } }>> {
  const record = await deps.alerts.get(input.fingerprint);
  if (!record) return { ok: false, status: 404, error: `fingerprint: no alert ${input.fingerprint}` };
  const { host, rule } = record.alert;
  if (record.alert.status !== 'firing') {
    const error = `fingerprint: alert ${input.fingerprint} (${host} ${rule}) is resolved; nothing to acknowledge`;
    return { ok: false, status: 409, error };
  }
  const now = deps.now();
  const ack: Ack = {
    v: SCHEMA_VERSION,
    id: newId(),
    host: record.alert.host,
    ts: now,
    fingerprint: input.fingerprint,
    generation: record.alert.generation,
    by: input.by,
    method: input.method ?? 'http',
    until: input.until ?? 0,
    ...(input.comment ? { comment: input.comment } : {}),
  };
  await publishDurable(deps.js, deps.subjects.ack(input.fingerprint), ack);
  return { ok: true, value: { ...ack, alert: { host, rule } } };
}

/** Parses matchers as `offhook silence add` does (Alertmanager syntax; several separated by spaces or in braces). */
export function parseMatcherList(text: string): Matcher[] | string {
  const matchers: Matcher[] = [];
  for (const part of splitMatcherText(text)) {
    const parsed = parseMatchers(part);
    if (typeof parsed === 'string') return parsed;
    matchers.push(...parsed);
  }
  return matchers;
}

/** Splits on whitespace outside double quotes and braces, like a shell hands `silence add` its arguments. */
export function splitMatcherText(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted && c === '\\' && i + 1 < text.length) {
      current += c + text[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '{') depth++;
    else if (!quoted && c === '}') depth = Math.max(0, depth - 1);
    if (!quoted && depth === 0 && /\s/.test(c)) {
      if (current) parts.push(current);
      current = '';
    } else current += c;
  }
  if (current) parts.push(current);
  return parts;
}

/** Adds a silence to the silences bucket, as `offhook silence add` does; every collector applies it from there. */
export async function createSilence(
  deps: ActionDeps,
  input: SilenceRequest & { by: string },
): Promise<ActionResult<Silence>> {
  const matchers = parseMatcherList(input.matchers);
  if (typeof matchers === 'string') return { ok: false, status: 400, error: `matchers: ${matchers}` };
  if (matchers.length === 0)
    return { ok: false, status: 400, error: 'matchers: expected at least one matcher; {} would silence everything' };
  const duration = readDuration(input.duration);
  if (!duration.ok)
    return {
      ok: false,
      status: 400,
      error: `duration: ${durationMessage(duration.problem)}, got ${JSON.stringify(input.duration)}`,
    };
  if (duration.ms <= 0) return { ok: false, status: 400, error: 'duration: a silence needs a length above 0' };
  const now = deps.now();
  const silence = await deps.silences.add({
    matchers,
    startsAt: now,
    endsAt: now + duration.ms,
    createdBy: input.by,
    comment: input.comment,
    createdAt: now,
  });
  return { ok: true, value: silence };
}

export async function expireSilence(deps: ActionDeps, id: string): Promise<ActionResult<Silence>> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return { ok: false, status: 400, error: 'id: expected a silence id' };
  const expired = await deps.silences.expire(id, deps.now());
  if (!expired) return { ok: false, status: 404, error: `id: no silence ${id}` };
  return { ok: true, value: expired };
}
