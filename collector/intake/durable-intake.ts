import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamClient } from '../../shared/index.ts';

const NS_PER_MS = 1_000_000;
const RETRY_DELAY_MS = 5_000;

export interface DurableIntakeOptions {
  stream: string;
  /** Shared by every collector: each message is handled by one of them, and waits in the stream while none runs. */
  durable: string;
  filterSubject: string;
  ackWaitMs: number;
  /**
   * Resolves once the message is durably taken care of ('ack'), or it can never be ('term'); a rejection redelivers it.
   */
  handle(msg: JsMsg): Promise<'ack' | 'term'>;
  onRetry(err: unknown, msg: JsMsg): void;
}

export interface DurableIntake {
  /** Takes no new messages and waits for the one being handled, so it is acknowledged before its consumers close. */
  stop(): Promise<void>;
}

async function ensureDurable(nc: NatsConnection, options: DurableIntakeOptions): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.consumers.info(options.stream, options.durable);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message)) throw err;
    // Everything in the stream was sent for a collector, so a new durable starts at the beginning; handlers are
    // idempotent.
    await jsm.consumers.add(options.stream, {
      durable_name: options.durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: options.ackWaitMs * NS_PER_MS,
      max_deliver: -1,
      deliver_policy: DeliverPolicy.All,
      filter_subject: options.filterSubject,
    });
  }
}

/**
 * Reads a stream through a durable consumer shared by all collectors, one message at a time in
 * stream order. A message is acknowledged only after `handle` resolves; a collector that dies
 * before that leaves it to be redelivered, and a handler that fails has it redelivered later.
 */
export async function consumeDurably(nc: NatsConnection, options: DurableIntakeOptions): Promise<DurableIntake> {
  await ensureDurable(nc, options);
  const consumer = await jetstreamClient(nc).consumers.get(options.stream, options.durable);
  let chain: Promise<void> = Promise.resolve();
  const handleMessage = async (msg: JsMsg): Promise<void> => {
    const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(options.ackWaitMs / 3)));
    try {
      if ((await options.handle(msg)) === 'ack') msg.ack();
      else msg.term();
    } catch (err) {
      options.onRetry(err, msg);
      msg.nak(RETRY_DELAY_MS);
    } finally {
      clearInterval(keepAlive);
    }
  };
  const messages: ConsumerMessages = await consumer.consume({
    max_messages: 100,
    callback: (msg) => {
      chain = chain.then(() => handleMessage(msg));
    },
  });
  return {
    async stop() {
      // A close that fails (connection already gone) leaves unacked messages to the durable's redelivery: safe.
      await messages.close().catch(() => undefined);
      await chain;
    },
  };
}
