import { hostname } from 'node:os';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { GatewayStatus, type Clock, type Logger, type Subjects } from '../../shared/index.ts';
import type { Budget } from '../calls/budget.ts';
import type { LineDriver } from '../drivers/driver.ts';
import type { LineWorker } from '../line/line-worker.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { CallQueue } from '../calls/queue.ts';
import type { Person } from '../config.ts';
import type { LineActivity } from '../line/line-activity.ts';

export interface StatusParts {
  gatewayHost: string;
  driver: LineDriver;
  worker: LineWorker;
  queue: CallQueue;
  budget: Budget;
  metrics: GatewayMetrics;
  clock: Clock;
  watchdog?: { status(): GatewayStatus['watchdog'] };
  /** For the escalation's next person by name, and the line's state (the web console's phone panel). */
  people?: readonly Person[];
  activity?: LineActivity;
}

export async function gatewayStatus(parts: StatusParts): Promise<GatewayStatus> {
  const now = parts.clock.now();
  const lineUp = (await parts.metrics.lineUp.get()).values[0]?.value ?? 1;
  const remaining = parts.budget.remaining(now);
  return GatewayStatus.parse({
    component: 'gateway',
    node: hostname(),
    ts: now,
    gatewayHost: parts.gatewayHost,
    line: {
      driver: parts.driver.name,
      up: lineUp === 1,
      busy: parts.worker.busy,
      ...(parts.activity ? { state: parts.activity.state, call: parts.activity.call } : {}),
    },
    queue: parts.queue.all().map((entry) => ({
      fingerprint: entry.alert.fingerprint,
      host: entry.alert.host,
      rule: entry.alert.rule,
      severity: entry.alert.severity,
      round: entry.escalation.round,
      ...(parts.people
        ? {
            escalation: {
              next: parts.people[entry.escalation.person]?.name ?? null,
              nextAt: entry.escalation.nextAt,
              attempts: entry.escalation.attempts,
              callsMade: entry.escalation.callsMade,
            },
          }
        : {}),
    })),
    currency: parts.budget.currency,
    budget: Object.fromEntries(
      Object.entries(remaining).map(([limit, left]) => [limit, Number.isFinite(left) ? left : null]),
    ),
    ...(parts.watchdog ? { watchdog: parts.watchdog.status() } : {}),
  });
}

/** Answers `offhook status`: every gateway replies, so an operator sees all lines at once. */
export function serveStatus(nc: NatsConnection, subjects: Subjects, parts: StatusParts, logger: Logger): Subscription {
  return nc.subscribe(subjects.statusRequest('gateway'), {
    callback: (err, msg) => {
      if (err) return;
      gatewayStatus(parts)
        .then((status) => msg.respond(JSON.stringify(status)))
        .catch((error: Error) => logger.warn({ err: error }, 'cannot answer a status request'));
    },
  });
}
