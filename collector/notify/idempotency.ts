import { randomHex, sha256Hex } from '../../shared/index.ts';
import type { NotificationBatch } from './types.ts';

/**
 * Idempotency keys: delivery is at-least-once (a stop between the receiver's answer and the notification-log write
 * re-sends from the pending log), so each accepted notification carries a key that a resend repeats and that two
 * separate decisions never share. A receiver that remembers the keys it has acted on gets exactly-once.
 */

/** The header's name in draft-ietf-httpapi-idempotency-key-header. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** The per-alert annotation in the Alertmanager payload: batches of a resend may be cut differently. */
export const NOTIFICATION_KEY_ANNOTATION = 'offhook_notification_key';

/** A new acceptance's id, stored in its pending entry so a resumed resend carries the same key. */
export const acceptanceId = (): string => randomHex(8);

/**
 * `<notification-log key>/<acceptance id>`: which notification (fingerprint.generation.receiver.what) and which
 * acceptance of it. Pending entries of older versions have no id; their acceptance time stands in (kept on resume).
 */
export function idempotencyKey(logKey: string, id: string | undefined, acceptedAt: number): string {
  return `${logKey}/${id ?? `t${acceptedAt}`}`;
}

/** The key of each alert of the batch, in order; none when a batch was built without them (tests, tools). */
export function alertKeys(batch: NotificationBatch): (string | undefined)[] {
  return batch.alerts.map((_, i) => batch.idempotencyKeys?.[i]);
}

/** The whole batch's key: its one alert's key, or a hash of all of them (same alerts, same key). */
export function batchKey(batch: NotificationBatch): string | undefined {
  const keys = batch.idempotencyKeys;
  if (!keys || keys.length === 0 || keys.length !== batch.alerts.length) return undefined;
  if (keys.length === 1) return keys[0];
  return sha256Hex([...keys].sort().join('\n')).slice(0, 32);
}

/**
 * The header value: a Structured Field string as the draft asks (`"..."`). Keys are letters, digits and `._/-`
 * (receiver names and log keys are restricted so), so nothing needs escaping; escaping anyway keeps it valid.
 */
export function headerValue(key: string): string {
  return `"${key.replace(/[\\"]/g, '\\$&')}"`;
}

/** Request headers for `key`, or none. */
export function idempotencyHeaders(key: string | undefined): Record<string, string> {
  return key === undefined ? {} : { [IDEMPOTENCY_HEADER]: headerValue(key) };
}

/** A Message-ID the same for every send of the batch, so mail clients collapse resends into one message. */
export function messageId(batch: NotificationBatch): string | undefined {
  const key = batchKey(batch);
  return key === undefined ? undefined : `<${sha256Hex(key).slice(0, 32)}@offhook>`;
}
