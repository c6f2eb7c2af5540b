import type { KV } from '@nats-io/kv';
import { listKeys, type Logger } from '../../shared/index.ts';
import { AlertRecord } from './alert-record.ts';

/** Alert records in the KV bucket `<prefix>-alerts`, one key per fingerprint. */
export class AlertStore {
  constructor(
    private readonly kv: KV,
    private readonly logger: Logger,
  ) {}

  async put(record: AlertRecord): Promise<void> {
    await this.kv.put(record.alert.fingerprint, JSON.stringify(record));
  }

  async get(fp: string): Promise<AlertRecord | null> {
    const entry = await this.kv.get(fp);
    if (entry?.operation !== 'PUT') return null;
    const parsed = AlertRecord.safeParse(entry.json());
    return parsed.success ? parsed.data : null;
  }

  /** Every stored record; an unreadable one is logged and skipped, never fatal. */
  async loadAll(): Promise<AlertRecord[]> {
    const records: AlertRecord[] = [];
    const keys: string[] = [];
    keys.push(...(await listKeys(this.kv)));
    for (const key of keys) {
      try {
        const entry = await this.kv.get(key);
        if (entry?.operation !== 'PUT') continue; // a deleted record is listed with its delete marker
        const record = AlertRecord.safeParse(entry.json());
        if (record.success) records.push(record.data);
        else this.logger.warn({ fingerprint: key }, 'alert record in KV is not valid; ignoring it');
      } catch (err) {
        this.logger.warn({ err, fingerprint: key }, 'cannot read alert record');
      }
    }
    return records;
  }
}
