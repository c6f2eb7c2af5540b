import { DeliverPolicy, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import type { Ack, Alert, InboundValidator, Subjects } from '../../shared/index.ts';
import { streamNames } from '../../shared/index.ts';

/** True when this ack covers this firing of the alert and has not expired. */
export function ackCovers(
  ack: Ack,
  alert: Pick<Alert, 'fingerprint' | 'generation' | 'startsAt'>,
  now: number,
): boolean {
  if (ack.fingerprint !== alert.fingerprint) return false;
  if (ack.until !== 0 && ack.until <= now) return false;
  // Without a generation the ack covers whatever was firing when it was given, not a later re-fire.
  return ack.generation !== undefined ? ack.generation >= alert.generation : ack.ts >= alert.startsAt;
}

/**
 * Follows the ACKS stream (the latest ack per alert, then live) so an acknowledgement from the
 * CLI, the web or another phone stops the escalation before the next call.
 */
export class AckWatcher {
  private readonly latest = new Map<string, Ack>();
  private messages: ConsumerMessages | null = null;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subjects: Subjects,
    private readonly validator: InboundValidator,
  ) {}

  async start(onAck: (ack: Ack) => void): Promise<void> {
    const consumer = await this.js.consumers.get(streamNames(this.subjects).acks, {
      filter_subjects: this.subjects.allAcks,
      deliver_policy: DeliverPolicy.LastPerSubject,
    });
    this.messages = await consumer.consume({
      callback: (msg) => {
        const decoded = this.validator.accept(msg.subject, msg.data);
        if (decoded?.type !== 'ack') return;
        this.latest.set(decoded.message.fingerprint, decoded.message);
        onAck(decoded.message);
      },
    });
  }

  /** The ack covering this alert now, if any (also records acks the gateway itself published). */
  coveringAck(alert: Pick<Alert, 'fingerprint' | 'generation' | 'startsAt'>, now: number): Ack | null {
    const ack = this.latest.get(alert.fingerprint);
    return ack && ackCovers(ack, alert, now) ? ack : null;
  }

  remember(ack: Ack): void {
    this.latest.set(ack.fingerprint, ack);
  }

  stop(): void {
    this.messages?.stop();
  }
}
