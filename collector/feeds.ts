import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Reads a stream in order from `afterSeq + 1` with an ordered consumer: no per-message acks,
 * the collector's checkpoint is the position. Returns a stopper.
 */
export async function readStreamFrom(nc: NatsConnection, stream: string, afterSeq: number, onMessage: (msg: JsMsg) => void): Promise<{ stop(): void }> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 } : { deliver_policy: DeliverPolicy.All });
  const messages: ConsumerMessages = await consumer.consume({ callback: onMessage, expires: 5000 });
  return { stop: () => void messages.stop() };
}
