import type { NatsConnection } from '@nats-io/transport-node';
import {
  streamNames,
  type FallbackRequest,
  type InboundValidator,
  type Logger,
  type Subjects,
} from '../../shared/index.ts';
import { consumeDurably, type DurableIntake } from '../intake/index.ts';

/**
 * One durable for every collector: each fallback request is handled by one of them, and waits in the stream while none
 * runs.
 */
export const FALLBACK_DURABLE = 'offhook-collector-fallback';
const DEFAULT_ACK_WAIT_MS = 60_000;

export type FallbackIntake = DurableIntake;

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
  return consumeDurably(nc, {
    stream: streamNames(subjects).gateway,
    durable: FALLBACK_DURABLE,
    filterSubject: subjects.allFallbacks,
    ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    async handle(msg) {
      const decoded = validator.accept(msg.subject, msg.data);
      if (decoded?.type !== 'fallback') return 'term';
      const request = decoded.message;
      const log = logger.child({ gateway: request.host, reason: request.reason });
      log.warn(
        { detail: request.detail, alerts: request.alerts.length, redelivered: msg.redelivered },
        'gateway fell back to notifiers',
      );
      const accepted = await handle(request);
      log.info({ accepted }, 'fallback request handed to the fallback receivers');
      return 'ack';
    },
    onRetry: (err, msg) =>
      logger.error({ err, subject: msg.subject }, 'handling a fallback request failed; it will be redelivered'),
  });
}
