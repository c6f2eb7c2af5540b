// The collector's notification side: config schema, the dispatcher (NotificationSink) and the plugin registry.
import { Kvm, type KV } from '@nats-io/kv';
import {
  BUCKETS,
  bucketName,
  InboundValidator,
  systemClock,
  type Alert,
  type Clock,
  type Logger,
  type NatsConnection,
  type Registry,
  type Subjects,
} from '../../shared/index.ts';
import type { NotificationsConfig } from './config.ts';
import { Dispatcher } from './dispatcher.ts';
import { consumeFallbacks } from './fallback.ts';
import { notificationMetrics } from './metrics.ts';
import { NotificationLog, type PendingNotification, type PendingOwner } from './nflog.ts';
import { ReceiverQueue } from './queue.ts';
import { pluginFor } from './registry.ts';
import { createRouter } from './route.ts';
import type { Notifier, NotificationReason, NotificationSink, SubmitContext } from './types.ts';

export { NotificationsConfig, ReceiverConfig, RouteConfig } from './config.ts';
export { notifierPlugins, pluginFor } from './registry.ts';
export { alertmanagerPayload } from './alertmanager-payload.ts';
export type { PendingNotification, PendingOwner } from './nflog.ts';
export type {
  NotificationBatch,
  NotificationReason,
  NotificationSink,
  Notifier,
  NotifierPlugin,
  NotifyOutcome,
  SubmitContext,
} from './types.ts';

export interface DispatcherDeps {
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Marks pending entries with the accepting collector run (a collector group resumes by partition and owner). */
  owner?: PendingOwner;
  /**
   * Resume every pending notification now (default). A collector group passes false and resumes per partition
   * as it takes them (`resumePending`), so a member's start does not re-send what another member is sending.
   */
  resumeAtStart?: boolean;
}

export type NotificationDispatcher = NotificationSink & {
  /** Resolves once the notification is durably accepted (or deliberately not sent); never rejects. */
  submit(alert: Alert, reason: NotificationReason, context?: SubmitContext): Promise<void>;
  /** Resolves once everything submitted so far is delivered or given up (tests, graceful stop). */
  idle(): Promise<void>;
  /** Stops listening, lets queued notifications go out for up to graceMs (default 5 s), then aborts the rest. */
  close(graceMs?: number): Promise<void>;
  /** Re-queues the pending notifications `select` picks (those no live run is sending); resolves with how many. */
  resumePending(select: (pending: PendingNotification) => boolean): Promise<number>;
};

async function openNflog(nc: NatsConnection, subjects: Subjects): Promise<KV> {
  const kvm = new Kvm(nc);
  const name = bucketName(subjects, 'nflog');
  // ensureStreams normally made it (with the deployment's replicas); create it only when missing.
  try {
    const kv = await kvm.open(name);
    await kv.status();
    return kv;
  } catch {
    return kvm.create(name, { history: BUCKETS.nflog.history, description: BUCKETS.nflog.description });
  }
}

/**
 * Builds one queue per receiver, the router and the notification log, and starts listening for
 * the gateway's fallback requests. The alert engine calls submit(); close() stops everything.
 */
export async function createDispatcher(
  config: NotificationsConfig,
  deps: DispatcherDeps,
): Promise<NotificationDispatcher> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'notifications' });
  const metrics = notificationMetrics(deps.registry);
  const nflog = new NotificationLog(await openNflog(deps.nc, deps.subjects));
  const notifiers: Notifier[] = [];
  const receivers = new Map<string, { config: NotificationsConfig['receivers'][number]; queue: ReceiverQueue }>();
  let dispatcher: Dispatcher | undefined;
  for (const receiver of config.receivers) {
    const plugin = pluginFor(receiver.kind);
    if (!plugin) throw new Error(`notifications.receivers: no notifier kind "${receiver.kind}"`);
    const receiverLogger = logger.child({ receiver: receiver.name, kind: receiver.kind });
    const notifier = plugin.create(receiver, {
      logger: receiverLogger,
      registry: deps.registry,
      receiverName: receiver.name,
    });
    notifiers.push(notifier);
    const queue = new ReceiverQueue({
      receiver,
      notifier,
      externalUrl: config.external_url,
      clock,
      metrics,
      logger: receiverLogger,
      onDelivered: (items, attempts) => dispatcher!.delivered(receiver.name, items, attempts),
      onUndelivered: (items, why) => dispatcher!.undelivered(items, why),
    });
    receivers.set(receiver.name, { config: receiver, queue });
  }
  dispatcher = new Dispatcher({
    receivers,
    route: createRouter(config.routes),
    fallbackReceivers: config.fallback_receivers,
    nflog,
    metrics,
    logger,
    clock,
    ...(deps.owner ? { owner: deps.owner } : {}),
  });
  if (deps.resumeAtStart !== false) await dispatcher.resumePending();
  const validator = new InboundValidator(deps.registry, logger, deps.subjects, () => clock.now());
  const active = dispatcher;
  const fallbacks = await consumeFallbacks(deps.nc, deps.subjects, validator, logger, async (request) => {
    if (config.fallback_receivers.length === 0) {
      logger.error(
        { gateway: request.host, reason: request.reason, alerts: request.alerts.length },
        'gateway fell back but no fallback_receivers are configured: nobody is told',
      );
      metrics.dropped.inc({ receiver: '', reason: 'no_fallback_receiver' }, request.alerts.length);
      return 0;
    }
    // submit() resolves once each notification is durably accepted; only then may the request be acknowledged.
    await Promise.all(
      request.alerts.map((alert) => active.submit(alert, 'fallback', { fallbackReason: request.reason })),
    );
    return request.alerts.length;
  });
  return {
    submit: (alert, reason, context) => active.submit(alert, reason, context),
    idle: () => active.idle(),
    resumePending: (select) => active.resumePending(select),
    async close(graceMs?: number) {
      await fallbacks.stop();
      await active.close(graceMs);
      await Promise.all(
        notifiers.map((n) => n.close?.().catch((err: Error) => logger.warn({ err }, 'notifier close failed'))),
      );
    },
  };
}
