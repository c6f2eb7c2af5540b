import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import * as z from 'zod';
import type { Logger, Subjects } from '../../shared/index.ts';
import { PhoneNumber } from '../config.ts';
import type { LineWorker } from './line-worker.ts';

export const TestCallRequest = z.object({ number: PhoneNumber });

/** Request subject for operator actions on a running gateway (the line belongs to it alone). */
export function controlSubject(subjects: Subjects, gatewayHost: string, action: 'test_call' | 'voice_note'): string {
  return `${subjects.root}.gatewayctl.${gatewayHost}.${action}`;
}

/**
 * `offhook test-call` asks the running gateway to place the call, so it queues behind whatever is on
 * the line instead of fighting over it, and counts in the same budget.
 */
export function control(
  nc: NatsConnection,
  subjects: Subjects,
  gatewayHost: string,
  worker: LineWorker,
  logger: Logger,
): Subscription {
  return nc.subscribe(controlSubject(subjects, gatewayHost, 'test_call'), {
    callback: (err, msg) => {
      if (err) return;
      let parsed: z.infer<typeof TestCallRequest>;
      try {
        const result = TestCallRequest.safeParse(msg.json());
        if (!result.success) {
          msg.respond(JSON.stringify({ ok: false, error: `number: ${result.error.issues[0]?.message ?? 'invalid'}` }));
          return;
        }
        parsed = result.data;
      } catch {
        msg.respond(JSON.stringify({ ok: false, error: 'request is not JSON' }));
        return;
      }
      logger.info({ number: parsed.number }, 'test call requested');
      void worker.testCall(parsed.number).then((result) => msg.respond(JSON.stringify({ ok: true, ...result })));
    },
  });
}
