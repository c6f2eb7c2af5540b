import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

const encoder = new TextEncoder();

export function encodeMessage(message: object): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/**
 * Publishes a validated message to JetStream with its `id` as Nats-Msg-Id, so a retry of the
 * same message inside the stream's duplicate window is stored once.
 */
export async function publishDurable(
  js: JetStreamClient,
  subject: string,
  message: { id: string },
  timeoutMs = 5000,
): Promise<PubAck> {
  return js.publish(subject, encodeMessage(message), { msgID: message.id, timeout: timeoutMs });
}

export function jetstreamClient(nc: NatsConnection): JetStreamClient {
  return jetstream(nc);
}
