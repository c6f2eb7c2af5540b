import type { JsMsg } from '@nats-io/jetstream';

/** When JetStream stored the message (server clock): the same on every replay, unlike our clock. */
export function storedAtMs(msg: Pick<JsMsg, 'info'>): number {
  return Math.floor(msg.info.timestampNanos / 1_000_000);
}
