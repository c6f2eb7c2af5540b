import type { JetStreamClient } from '@nats-io/jetstream';
import {
  Ack,
  CallRecord,
  FallbackRequest,
  GatewayEvent,
  SCHEMA_VERSION,
  newId,
  publishDurable,
  type Alert,
  type Logger,
  type Subjects,
} from '../../shared/index.ts';

type CallRecordFields = Omit<CallRecord, 'v' | 'id' | 'host' | 'ts' | 'digits'> & { digits?: string };

/** Retries of a fallback request or gateway event while NATS is unreachable: about 5 minutes in all. */
const BACKGROUND_ATTEMPTS = 12;
const BACKGROUND_MAX_BACKOFF_MS = 30_000;
/** Attempts at a call record or ack, which the line worker awaits: a few, then logged and dropped. */
const DURABLE_ATTEMPTS = 3;

/**
 * Everything the gateway tells the rest of offhook, all through JetStream (durable, deduplicated by
 * id). Fallback requests and gateway events land in the GATEWAY stream, where the collector's durable
 * consumer finds them even if no collector was running when they were sent; they are published in the
 * background with retries, so the line worker never waits on NATS for them. Publishing never throws
 * into the line worker.
 */
export class GatewayPublisher {
  private readonly background = new Set<Promise<void>>();
  private stopped = false;

  constructor(
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
    await this.durable(this.subjects.call(primaryFingerprint), record, {
      fingerprint: primaryFingerprint,
      callId: record.callId,
    });
    return record;
  }

  async ack(
    alert: Alert,
    fields: { by: string; method: Ack['method']; voiceNote?: string; comment?: string },
  ): Promise<Ack> {
    const ack = Ack.parse({
      ...this.envelope(alert.host),
      fingerprint: alert.fingerprint,
      generation: alert.generation,
      until: 0,
      ...fields,
    });
    await this.durable(this.subjects.ack(alert.fingerprint), ack, {
      fingerprint: alert.fingerprint,
      host: alert.host,
      rule: alert.rule,
    });
    return ack;
  }

  async fallback(reason: FallbackRequest['reason'], alerts: Alert[], detail: string): Promise<void> {
    // The schema caps one request at 1000 alerts; a bigger storm goes out in several.
    for (let i = 0; i < alerts.length; i += 1000) {
      const request = FallbackRequest.parse({
        ...this.envelope(this.gatewayHost),
        reason,
        detail,
        alerts: alerts.slice(i, i + 1000),
      });
      this.inBackground(this.subjects.fallback(this.gatewayHost), request, { reason, count: request.alerts.length });
    }
    this.logger.warn(
      { reason, count: alerts.length, fingerprints: alerts.slice(0, 20).map((a) => a.fingerprint), detail },
      'handed alerts to the fallback notifiers',
    );
  }

  event(kind: GatewayEvent['kind'], fields: { limit?: string; detail?: string; fingerprints?: string[] }): void {
    const event = GatewayEvent.parse({
      ...this.envelope(this.gatewayHost),
      kind,
      ...fields,
      fingerprints: (fields.fingerprints ?? []).slice(0, 1000),
    });
    this.inBackground(this.subjects.gatewayEvent(this.gatewayHost), event, { kind });
  }

  /** Resolves once every background publish has been stored or given up, or after `timeoutMs` (shutdown). */
  async settle(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([...this.background]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    if (this.background.size > 0)
      this.logger.error(
        { pending: this.background.size },
        'stopping with fallback requests or gateway events not yet stored',
      );
    this.stopped = true;
  }

  protected inBackground(subject: string, message: { id: string }, context: Record<string, unknown>): void {
    const task = this.retrying(subject, message, context).finally(() => this.background.delete(task));
    this.background.add(task);
  }

  private async retrying(subject: string, message: { id: string }, context: Record<string, unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await publishDurable(this.js, subject, message);
        return;
      } catch (err) {
        if (attempt >= BACKGROUND_ATTEMPTS || this.stopped) {
          this.logger.error(
            { err, subject, id: message.id, attempts: attempt, ...context },
            'giving up publishing to JetStream',
          );
          return;
        }
        this.logger.warn(
          { err, subject, id: message.id, attempt, ...context },
          'cannot publish to JetStream yet; retrying',
        );
        // Same id on every attempt: one that was stored but whose PubAck was lost is not stored twice.
        await new Promise((resolve) => setTimeout(resolve, Math.min(BACKGROUND_MAX_BACKOFF_MS, 500 * 2 ** attempt)));
      }
    }
  }

  protected async durable(subject: string, message: { id: string }, context: Record<string, unknown>): Promise<void> {
    // A retry with the same id is stored once (duplicate window), so retrying is safe. Each retry is logged with the
    // id: one whose first attempt was stored but unconfirmed (the stream leader died) reaches plain subscribers twice.
    for (let attempt = 1; attempt <= DURABLE_ATTEMPTS; attempt++) {
      try {
        await publishDurable(this.js, subject, message);
        return;
      } catch (err) {
        if (attempt === DURABLE_ATTEMPTS)
          this.logger.error(
            { err, subject, id: message.id, attempts: attempt, ...context },
            'cannot publish to JetStream',
          );
        else
          this.logger.warn(
            { err, subject, id: message.id, attempt, ...context },
            'JetStream did not confirm a publish; retrying with the same Nats-Msg-Id',
          );
      }
    }
  }
}
