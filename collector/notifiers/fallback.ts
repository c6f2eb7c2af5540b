import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { FallbackRequest, InboundValidator, Logger, Subjects } from '../../shared/index.ts';

/** Queue group, so with several collectors each fallback request is handled by one of them. */
export const FALLBACK_QUEUE_GROUP = 'offhook-collector-fallback';

/**
 * Listens for the gateway's FallbackRequests (it could not phone: budget spent, line down,
 * nobody answered). Invalid ones are counted and dropped by the validator. A request sent with
 * a reply subject (nc.request) is answered {accepted: n} so the gateway knows someone took it.
 */
export function listenForFallbacks(
  nc: NatsConnection,
  subjects: Subjects,
  validator: InboundValidator,
  logger: Logger,
  handle: (request: FallbackRequest) => number,
): Subscription {
  return nc.subscribe(subjects.allFallbacks, {
    queue: FALLBACK_QUEUE_GROUP,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err }, 'fallback subscription failed');
        return;
      }
      const decoded = validator.accept(msg.subject, msg.data);
      if (!decoded || decoded.type !== 'fallback') {
        if (msg.reply) msg.respond(JSON.stringify({ accepted: 0, error: 'invalid fallback request' }));
        return;
      }
      const request = decoded.message;
      logger.warn({ gateway: request.host, reason: request.reason, detail: request.detail, alerts: request.alerts.length }, 'gateway fell back to notifiers');
      const accepted = handle(request);
      if (msg.reply) msg.respond(JSON.stringify({ accepted }));
    },
  });
}
