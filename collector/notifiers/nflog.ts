import type { KV } from '@nats-io/kv';
import type { Alert } from '../../shared/index.ts';
import type { NotificationReason } from './types.ts';

/** What a notification-log entry records: enough to answer "was this sent, when, how". */
export interface NflogEntry {
  sentAt: number;
  receiver: string;
  reason: NotificationReason;
  attempts: number;
}

/**
 * The notification log in KV (bucket `<prefix>-nflog`), the dedup source of truth: a key
 * exists once that notification was delivered, so a restarted collector re-deriving the same
 * transitions sends nothing twice. Key: <fingerprint>.<generation>.<receiver>.<what>, where
 * <what> is the reason (firing, resolved, flapping), repeat-<n>, or fallback-<gateway reason>.
 */
export class NotificationLog {
  constructor(private readonly kv: KV) {}

  static key(alert: Pick<Alert, 'fingerprint' | 'generation'>, receiver: string, what: string): string {
    return `${alert.fingerprint}.${alert.generation}.${receiver}.${what}`;
  }

  async wasSent(key: string): Promise<boolean> {
    const entry = await this.kv.get(key);
    return entry !== null && entry.operation === 'PUT' && entry.length > 0;
  }

  async record(key: string, entry: NflogEntry): Promise<void> {
    await this.kv.put(key, JSON.stringify(entry));
  }

  /** The <what> parts logged for this alert generation and receiver: ["firing", "repeat-1", ...]. */
  async sentKinds(alert: Pick<Alert, 'fingerprint' | 'generation'>, receiver: string): Promise<string[]> {
    const prefix = NotificationLog.key(alert, receiver, '');
    const kinds: string[] = [];
    for await (const key of await this.kv.keys(`${prefix}*`)) kinds.push(key.slice(prefix.length));
    return kinds;
  }
}
