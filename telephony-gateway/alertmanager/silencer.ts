import { EventEmitter } from 'node:events';
import {
  AckPolicy,
  DeliverPolicy,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  rfc3339,
  streamNames,
  type Ack,
  type Clock,
  type InboundValidator,
  type Logger,
  type NatsConnection,
  type Subjects,
} from '../../shared/index.ts';
import { AlertmanagerApiError, type AlertmanagerApi, type NewSilence } from './api.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { BridgeStore, BridgedAlert } from './store.ts';

const NS_PER_MS = 1_000_000;
/** Enough attempts to ride out an Alertmanager restart or upgrade (the backoff caps at 5 minutes, so about 4 hours). */
const MAX_DELIVERIES = 50;
const MIN_SILENCE_MS = 60_000;

/**
 * When the silence ends: the alert's own end time when it has one, the ack's expiry, and never later than
 * `silence_max`.
 */
export function silenceEnd(
  now: number,
  alert: Pick<BridgedAlert, 'endsAt'>,
  ack: Pick<Ack, 'until'>,
  maxMs: number,
): number {
  let end = now + maxMs;
  if (alert.endsAt > now) end = Math.min(end, alert.endsAt);
  if (ack.until > now) end = Math.min(end, ack.until);
  return Math.max(end, now + MIN_SILENCE_MS);
}

/** Exact matchers on every label: the silence covers this alert and nothing else. */
export function silenceFor(
  alert: BridgedAlert,
  ack: Ack,
  now: number,
  options: { maxMs: number; createdBy: string },
): NewSilence {
  return {
    matchers: Object.keys(alert.labels)
      .sort()
      .map((name) => ({ name, value: alert.labels[name]!, isRegex: false, isEqual: true })),
    startsAt: rfc3339(now),
    endsAt: rfc3339(silenceEnd(now, alert, ack, options.maxMs)),
    createdBy: options.createdBy,
    comment: (
      `Acknowledged by ${ack.by} (${ack.method === 'dtmf' ? 'phone' : ack.method}) through ` +
      `offhook${ack.comment ? `: ${ack.comment}` : ''}`
    ).slice(0, 1000),
  };
}

/**
 * Turns acknowledgements of Alertmanager alerts into Alertmanager silences. A durable consumer on
 * the ACKS stream, acked only once the silence exists, so an Alertmanager that is down or
 * restarting gets the silence later instead of never.
 */
export class Silencer {
  /** `silenced` (fingerprint, silenceId), `silence_failed` (fingerprint, error). */
  readonly events = new EventEmitter();
  private messages: ConsumerMessages | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly parts: {
      nc: NatsConnection;
      js: JetStreamClient;
      subjects: Subjects;
      validator: InboundValidator;
      store: BridgeStore;
      api: AlertmanagerApi;
      metrics: BridgeMetrics;
      logger: Logger;
      clock: Clock;
      durableName: string;
      maxMs: number;
      createdBy: string;
    },
  ) {}

  async start(): Promise<void> {
    const { nc, js, subjects, durableName } = this.parts;
    const stream = streamNames(subjects).acks;
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.consumers.info(stream, durableName);
    } catch (err) {
      if (!/consumer not found/i.test((err as Error).message)) throw err;
      // New acks only: history was acknowledged before this bridge existed.
      await jsm.consumers.add(stream, {
        durable_name: durableName,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: 60_000 * NS_PER_MS,
        max_deliver: MAX_DELIVERIES,
        filter_subject: subjects.allAcks,
      });
    }
    const consumer = await js.consumers.get(stream, durableName);
    this.messages = await consumer.consume({
      callback: (msg) => {
        this.chain = this.chain.then(() => this.handle(msg));
      },
    });
  }

  private async handle(msg: JsMsg): Promise<void> {
    const decoded = this.parts.validator.accept(msg.subject, msg.data);
    if (decoded?.type !== 'ack') {
      msg.term();
      return;
    }
    const ack = decoded.message;
    const log = this.parts.logger.child({ fingerprint: ack.fingerprint, host: ack.host });
    try {
      const alert = await this.parts.store.loadAlert(ack.fingerprint);
      // Not an Alertmanager alert, or an ack for an earlier firing of it.
      if (!alert || (ack.generation !== undefined && ack.generation !== alert.generation)) return msg.ack();
      const marker = await this.parts.store.loadSilence(ack.fingerprint);
      if (marker?.generation === alert.generation && marker.endsAt > this.parts.clock.now()) {
        this.parts.metrics.silences.inc({ result: 'skipped' });
        return msg.ack();
      }
      const now = this.parts.clock.now();
      const silence = silenceFor(alert, ack, now, { maxMs: this.parts.maxMs, createdBy: this.parts.createdBy });
      const silenceId = await this.parts.api.createSilence(silence);
      await this.parts.store.saveSilence(ack.fingerprint, {
        generation: alert.generation,
        silenceId,
        endsAt: Date.parse(silence.endsAt),
      });
      this.parts.metrics.silences.inc({ result: 'created' });
      log.info(
        { silenceId, endsAt: silence.endsAt, by: ack.by, alertname: alert.labels.alertname },
        'acknowledged in Alertmanager: silence created',
      );
      this.events.emit('silenced', ack.fingerprint, silenceId);
      msg.ack();
    } catch (err) {
      const retryable = !(err instanceof AlertmanagerApiError) || err.retryable;
      const attempt = msg.info.deliveryCount;
      this.events.emit('silence_failed', ack.fingerprint, (err as Error).message);
      if (retryable && attempt < MAX_DELIVERIES) {
        this.parts.metrics.silences.inc({ result: 'failed' });
        const delayMs = Math.min(300_000, 1000 * 2 ** Math.min(attempt, 9));
        log.warn({ err, attempt, retryInMs: delayMs }, 'cannot create the Alertmanager silence yet; will retry');
        msg.nak(delayMs);
      } else {
        this.parts.metrics.silences.inc({ result: 'gave_up' });
        log.error(
          { err, attempt },
          'giving up on the Alertmanager silence for this acknowledgement; silence the alert by hand',
        );
        msg.term();
      }
    }
  }

  stop(): void {
    this.messages?.stop();
  }
}
