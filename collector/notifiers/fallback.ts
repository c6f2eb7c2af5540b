import { AckPolicy, DeliverPolicy, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamClient, streamNames, type FallbackRequest, type InboundValidator, type Logger, type Subjects } from '../../shared/index.ts';

/** One durable for every collector: each fallback request is handled by one of them, and waits in the stream while none runs. */
export const FALLBACK_DURABLE = 'offhook-collector-fallback';
const NS_PER_MS = 1_000_000;
const DEFAULT_ACK_WAIT_MS = 60_000;
const RETRY_DELAY_MS = 5_000;

export interface FallbackIntake {
  /** Takes no new requests and waits for the one being handled, so it is acknowledged before the dispatcher closes. */
  stop(): Promise<void>;
}

async function ensureFallbackConsumer(nc: NatsConnection, subjects: Subjects, ackWaitMs: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const stream = streamNames(subjects).gateway;
  try {
    await jsm.consumers.info(stream, FALLBACK_DURABLE);
  } catch (err) {
    if (!/consumer not found/i.test((err as Error).message)) throw err;
    // The stream keeps 30 days; everything in it was sent for a collector, so a new durable starts at the beginning
    // (the notification log keeps anything already sent from being sent again).
    await jsm.consumers.add(stream, {
      durable_name: FALLBACK_DURABLE,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWaitMs * NS_PER_MS,
      max_deliver: -1,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subjects.allFallbacks,
    });
  }
}

/**
 * Takes the gateway's FallbackRequests (it could not phone: budget spent, line down, nobody answered)
 * from the GATEWAY stream through a shared durable consumer. A request is acknowledged only after
 * `handle` resolves, i.e. once the dispatcher has durably accepted its notifications; a collector that
 * dies before that leaves it to be redelivered, and the notification log keeps the redelivery from
 * being sent twice. Invalid requests are counted by the validator and terminated.
 */
export async function consumeFallbacks(
  nc: NatsConnection,
  subjects: Subjects,
  validator: InboundValidator,
  logger: Logger,
  handle: (request: FallbackRequest) => Promise<number>,
  options: { ackWaitMs?: number } = {},
): Promise<FallbackIntake> {
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  await ensureFallbackConsumer(nc, subjects, ackWaitMs);
  const consumer = await jetstreamClient(nc).consumers.get(streamNames(subjects).gateway, FALLBACK_DURABLE);
  // In stream order, one at a time: a big request is admitted before the next one starts.
  let chain: Promise<void> = Promise.resolve();
  const handleMessage = async (msg: JsMsg): Promise<void> => {
    const decoded = validator.accept(msg.subject, msg.data);
    if (!decoded || decoded.type !== 'fallback') {
      msg.term();
      return;
    }
    const request = decoded.message;
    const log = logger.child({ gateway: request.host, reason: request.reason });
    log.warn({ detail: request.detail, alerts: request.alerts.length, redelivered: msg.redelivered }, 'gateway fell back to notifiers');
    const keepAlive = setInterval(() => msg.working(), Math.max(100, Math.floor(ackWaitMs / 3)));
    try {
      const accepted = await handle(request);
      msg.ack();
      log.info({ accepted }, 'fallback request handed to the fallback receivers');
    } catch (err) {
      log.error({ err }, 'handling a fallback request failed; it will be redelivered');
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
      await messages.close().catch(() => undefined);
      await chain;
    },
  };
}
