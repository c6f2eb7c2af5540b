import type { JetStreamClient } from '@nats-io/jetstream';
import type { Logger, Subjects } from '../../shared/index.ts';
import { GatewayPublisher } from '../status/publisher.ts';

/**
 * The gateway publisher, except that while NATS is known to be unreachable a call record or acknowledgement goes
 * to the background retries (same Nats-Msg-Id, about 5 minutes) instead of holding the line worker for three
 * 5 s timeouts: the watchdog's own call must be able to ring, be acknowledged and end with NATS down.
 */
export class OfflineAwarePublisher extends GatewayPublisher {
  constructor(
    js: JetStreamClient,
    subjects: Subjects,
    gatewayHost: string,
    logger: Logger,
    now: () => number,
    private readonly online: () => boolean,
  ) {
    super(js, subjects, gatewayHost, logger, now);
  }

  protected override async durable(
    subject: string,
    message: { id: string },
    context: Record<string, unknown>,
  ): Promise<void> {
    if (this.online()) return super.durable(subject, message, context);
    this.inBackground(subject, message, context);
  }
}
