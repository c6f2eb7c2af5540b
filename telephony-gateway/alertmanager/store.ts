import type { KV } from '@nats-io/kv';
import * as z from 'zod';
import { AlertStatus, EpochMs, Labels, type Logger } from '../../shared/index.ts';

/** What a later acknowledgement needs to silence an Alertmanager alert, kept in the gateway KV bucket. */
export const BridgedAlert = z.object({
  labels: Labels,
  generation: z.number().int().positive(),
  /** A real end time when the sender gave one; 0 while unknown (Alertmanager sends none for firing alerts). */
  endsAt: EpochMs,
  externalURL: z.string(),
});
export type BridgedAlert = z.infer<typeof BridgedAlert>;

export const SilenceMarker = z.object({
  generation: z.number().int().positive(),
  silenceId: z.string(),
  endsAt: EpochMs,
});
export type SilenceMarker = z.infer<typeof SilenceMarker>;

/** The last notification of an alert handed to the queue (dedup.ts). */
export const AcceptedNotification = z.object({
  status: AlertStatus,
  startsAt: EpochMs,
  /** When it was handed over (the gateway's clock). */
  at: EpochMs,
});
export type AcceptedNotification = z.infer<typeof AcceptedNotification>;

const encoder = new TextEncoder();

/**
 * Keys `alertmanager.alert.<fp>`, `alertmanager.silence.<fp>` and `alertmanager.accepted.<fp>`; survives a gateway
 * restart between firing and ack, and between a notification and its repeat.
 */
export class BridgeStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  private async read<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | null> {
    const entry = await this.kv.get(key);
    if (entry?.operation !== 'PUT' || entry.length === 0) return null;
    const parsed = schema.safeParse(entry.json());
    if (!parsed.success) this.logger.warn({ key }, 'ignoring unreadable Alertmanager bridge state');
    return parsed.success ? parsed.data : null;
  }

  async saveAlert(fingerprint: string, alert: BridgedAlert): Promise<void> {
    await this.kv.put(`alertmanager.alert.${fingerprint}`, encoder.encode(JSON.stringify(alert)));
  }
  async forgetAlert(fingerprint: string): Promise<void> {
    await this.kv.delete(`alertmanager.alert.${fingerprint}`);
  }
  loadAlert(fingerprint: string): Promise<BridgedAlert | null> {
    return this.read(`alertmanager.alert.${fingerprint}`, BridgedAlert);
  }
  async saveSilence(fingerprint: string, marker: SilenceMarker): Promise<void> {
    await this.kv.put(`alertmanager.silence.${fingerprint}`, encoder.encode(JSON.stringify(marker)));
  }
  loadSilence(fingerprint: string): Promise<SilenceMarker | null> {
    return this.read(`alertmanager.silence.${fingerprint}`, SilenceMarker);
  }
  async saveAccepted(fingerprint: string, notification: AcceptedNotification): Promise<void> {
    await this.kv.put(`alertmanager.accepted.${fingerprint}`, encoder.encode(JSON.stringify(notification)));
  }
  loadAccepted(fingerprint: string): Promise<AcceptedNotification | null> {
    return this.read(`alertmanager.accepted.${fingerprint}`, AcceptedNotification);
  }
}
