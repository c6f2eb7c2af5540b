import { createHash, randomBytes } from 'node:crypto';

/** Globally unique message id (also the JetStream Nats-Msg-Id). */
export function newId(): string {
  return `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
}

/** Stable fingerprint of an alert identity: same host, rule and labels → same 16 hex digits. */
export function fingerprint(host: string, rule: string, labels: Record<string, string> = {}): string {
  const canonical = JSON.stringify([
    host,
    rule,
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
