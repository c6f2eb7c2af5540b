import type { JetStreamClient } from '@nats-io/jetstream';
import {
  Ack,
  CallRecord,
  FallbackRequest,
  GatewayEvent,
  SCHEMA_VERSION,
  encodeMessage,
  newId,
  publishDurable,
  type Alert,
  type Logger,
  type NatsConnection,
  type Subjects,
} from '../shared/index.ts';

type CallRecordFields = Omit<CallRecord, 'v' | 'id' | 'host' | 'ts' | 'digits'> & { digits?: string };

/**
 * Everything the gateway tells the rest of offhook. Acks and call records go through JetStream
 * (durable, deduplicated by id); fallback requests and gateway events are core NATS for the
 * collector, which is subscribed while it runs. Publishing never throws into the line worker.
 */
export class GatewayPublisher {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
    private readonly gatewayHost: string,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  private envelope(host: string) {
    return { v: SCHEMA_VERSION, id: newId(), host, ts: this.now() };
  }

  async callRecord(fields: CallRecordFields, primaryFingerprint: string): Promise<CallRecord> {
    const record = CallRecord.parse({ ...this.envelope(this.gatewayHost), ...fields });
    await this.durable(this.subjects.call(primaryFingerprint), record, { fingerprint: primaryFingerprint, callId: record.callId });
    return record;
  }

  async ack(alert: Alert, fields: { by: string; method: Ack['method']; voiceNote?: string; comment?: string }): Promise<Ack> {
    const ack = Ack.parse({ ...this.envelope(alert.host), fingerprint: alert.fingerprint, generation: alert.generation, until: 0, ...fields });
    await this.durable(this.subjects.ack(alert.fingerprint), ack, { fingerprint: alert.fingerprint, host: alert.host, rule: alert.rule });
    return ack;
  }

  async fallback(reason: FallbackRequest['reason'], alerts: Alert[], detail: string): Promise<void> {
    // The schema caps one request at 1000 alerts; a bigger storm goes out in several.
    for (let i = 0; i < alerts.length; i += 1000) {
      const request = FallbackRequest.parse({ ...this.envelope(this.gatewayHost), reason, detail, alerts: alerts.slice(i, i + 1000) });
      this.core(this.subjects.fallback(this.gatewayHost), request);
    }
    this.logger.warn({ reason, count: alerts.length, fingerprints: alerts.slice(0, 20).map((a) => a.fingerprint), detail }, 'handed alerts to the fallback notifiers');
  }

  event(kind: GatewayEvent['kind'], fields: { limit?: string; detail?: string; fingerprints?: string[] }): void {
    const event = GatewayEvent.parse({ ...this.envelope(this.gatewayHost), kind, ...fields, fingerprints: (fields.fingerprints ?? []).slice(0, 1000) });
    this.core(this.subjects.gatewayEvent(this.gatewayHost), event);
  }

  private core(subject: string, message: object): void {
    try {
      this.nc.publish(subject, encodeMessage(message));
    } catch (err) {
      this.logger.error({ err, subject }, 'cannot publish');
    }
  }

  private async durable(subject: string, message: { id: string }, context: Record<string, unknown>): Promise<void> {
    // A retry with the same id is stored once (duplicate window), so retrying is safe.
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await publishDurable(this.js, subject, message);
        return;
      } catch (err) {
        if (attempt === 3) this.logger.error({ err, subject, ...context }, 'cannot publish to JetStream');
      }
    }
  }
}
