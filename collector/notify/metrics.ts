import { Counter, Gauge, Histogram, type Registry } from '../../shared/index.ts';

export interface NotificationMetrics {
  /** One per notification (a batch to one receiver), outcome sent|failed after retries. */
  notifications: Counter<'receiver' | 'kind' | 'outcome'>;
  /** Every attempt, so flaky receivers show before they fail for good. */
  attempts: Counter<'receiver' | 'kind' | 'outcome'>;
  duration: Histogram<'receiver' | 'kind'>;
  dropped: Counter<'receiver' | 'reason'>;
  rateLimited: Counter<'receiver'>;
  deduplicated: Counter<'receiver'>;
  queueDepth: Gauge<'receiver'>;
}

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function notificationMetrics(registry: Registry): NotificationMetrics {
  const registers = [registry];
  return {
    notifications: once(
      registry,
      'offhook_notifications_total',
      () =>
        new Counter({
          name: 'offhook_notifications_total',
          help: 'Notifications by receiver, kind and final outcome (sent|failed)',
          labelNames: ['receiver', 'kind', 'outcome'],
          registers,
        }),
    ),
    attempts: once(
      registry,
      'offhook_notification_attempts_total',
      () =>
        new Counter({
          name: 'offhook_notification_attempts_total',
          help: 'Delivery attempts by outcome (ok|retryable|permanent|timeout)',
          labelNames: ['receiver', 'kind', 'outcome'],
          registers,
        }),
    ),
    duration: once(
      registry,
      'offhook_notification_duration_seconds',
      () =>
        new Histogram({
          name: 'offhook_notification_duration_seconds',
          help: 'Time of one delivery attempt',
          labelNames: ['receiver', 'kind'],
          buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    ),
    dropped: once(
      registry,
      'offhook_notifications_dropped_total',
      () =>
        new Counter({
          name: 'offhook_notifications_dropped_total',
          help: 'Alerts not notified, by reason (queue_full, shutdown, inhibited, acknowledged, unknown_receiver)',
          labelNames: ['receiver', 'reason'],
          registers,
        }),
    ),
    rateLimited: once(
      registry,
      'offhook_notifications_rate_limited_total',
      () =>
        new Counter({
          name: 'offhook_notifications_rate_limited_total',
          help: 'Alerts held back by a receiver rate limit (sent later, coalesced)',
          labelNames: ['receiver'],
          registers,
        }),
    ),
    deduplicated: once(
      registry,
      'offhook_notifications_deduplicated_total',
      () =>
        new Counter({
          name: 'offhook_notifications_deduplicated_total',
          help: 'Alerts not re-sent because the notification log says they were sent',
          labelNames: ['receiver'],
          registers,
        }),
    ),
    queueDepth: once(
      registry,
      'offhook_notification_queue_depth',
      () =>
        new Gauge({
          name: 'offhook_notification_queue_depth',
          help: 'Alerts waiting per receiver',
          labelNames: ['receiver'],
          registers,
        }),
    ),
  };
}
