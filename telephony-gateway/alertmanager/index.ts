// The Alertmanager bridge: a webhook receiver that turns Alertmanager alerts into offhook alerts on
// the ALERTS stream (so they ring the phone exactly like the collector's), and acknowledgements of
// them back into Alertmanager silences.
import { EventEmitter } from 'node:events';
import type { JetStreamClient } from '@nats-io/jetstream';
import {
  openBucket,
  publishDurable,
  type Alert,
  type Clock,
  type InboundValidator,
  type Logger,
  type NatsConnection,
  type Registry,
  type Subjects,
  type AlertmanagerPayload,
} from '../../shared/index.ts';
import { AlertmanagerApi } from './api.ts';
import { resolveAuth } from './auth.ts';
import type { AlertmanagerBridgeConfig } from './config.ts';
import { AcceptedNotifications } from './dedup.ts';
import { toOffhookAlert } from './mapping.ts';
import { bridgeMetrics } from './metrics.ts';
import { Silencer } from './silencer.ts';
import { BridgeStore } from './store.ts';
import { UnusablePayload, WebhookServer } from './webhook.ts';

export { AlertmanagerBridgeConfig } from './config.ts';

export interface AlertmanagerBridge {
  /** Full webhook URL with the bound port. */
  url: string;
  /**
   * `queued` (Alert), `duplicate` (Alert, DropReason), `rejected` (outcome, detail),
   * `silenced` (fingerprint, silenceId), `silence_failed` (fingerprint, error).
   */
  events: EventEmitter;
  close(): Promise<void>;
}

export interface BridgeOptions {
  config: AlertmanagerBridgeConfig;
  listen: string;
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  gatewayHost: string;
  validator: InboundValidator;
  logger: Logger;
  registry: Registry;
  clock: Clock;
}

export async function startAlertmanagerBridge(options: BridgeOptions): Promise<AlertmanagerBridge> {
  const { config, nc, js, subjects, clock } = options;
  const logger = options.logger.child({ component: 'alertmanager' });
  const metrics = bridgeMetrics(options.registry);
  const events = new EventEmitter();
  const incomingAuth = resolveAuth(config.auth, 'auth');
  const store = new BridgeStore(await openBucket(nc, subjects, 'gateway'), logger);
  const accepted = new AcceptedNotifications(store, config.dedup_window, () => clock.now(), logger);

  const publishOne = async (alert: Alert, externalURL: string): Promise<void> => {
    // The record a later ack needs goes first: an ack can only follow a queued alert.
    if (alert.status === 'firing')
      await store.saveAlert(alert.fingerprint, {
        labels: alert.labels,
        generation: alert.generation,
        endsAt: 0,
        externalURL,
      });
    await publishDurable(js, subjects.alert(alert.severity, alert.host), alert);
    if (alert.status === 'resolved')
      await store
        .forgetAlert(alert.fingerprint)
        .catch((err: Error) => logger.warn({ err, fingerprint: alert.fingerprint }, 'cannot forget a resolved alert'));
  };

  const handle = async (payload: AlertmanagerPayload): Promise<{ queued: number; duplicates: number }> => {
    const now = clock.now();
    const alerts = payload.alerts.map((source, index) => {
      try {
        return toOffhookAlert(source, config, now);
      } catch (err) {
        throw new UnusablePayload(
          `alerts[${index}]: cannot become an offhook alert (${(err as Error).message.slice(0, 300)})`,
        );
      }
    });
    let queued = 0;
    let duplicates = 0;
    // In payload order, one at a time: a firing and its resolve must reach the stream in that order.
    for (const alert of alerts) {
      const dropped = await accepted.dropReason(alert.fingerprint, alert);
      if (dropped) {
        duplicates++;
        metrics.alerts.inc({ status: alert.status, result: 'duplicate' });
        metrics.dropped.inc({ reason: dropped });
        logger.info(
          { fingerprint: alert.fingerprint, status: alert.status, startsAt: alert.startsAt, reason: dropped },
          'Alertmanager notification already handed over: dropped',
        );
        events.emit('duplicate', alert, dropped);
        continue;
      }
      await publishOne(alert, payload.externalURL);
      await accepted.accepted(alert.fingerprint, alert);
      queued++;
      metrics.alerts.inc({ status: alert.status, result: 'queued' });
      logger.info(
        {
          fingerprint: alert.fingerprint,
          host: alert.host,
          rule: alert.rule,
          status: alert.status,
          severity: alert.severity,
          receiver: payload.receiver,
        },
        'Alertmanager alert handed to the call queue',
      );
      events.emit('queued', alert);
    }
    if (payload.truncatedAlerts > 0)
      logger.warn(
        { truncatedAlerts: payload.truncatedAlerts, groupKey: payload.groupKey },
        'Alertmanager left alerts out of this notification (max_alerts on the receiver)',
      );
    return { queued, duplicates };
  };

  let silencer: Silencer | null = null;
  if (config.alertmanager_url) {
    const api = new AlertmanagerApi(
      config.alertmanager_url,
      config.alertmanager_auth ? resolveAuth(config.alertmanager_auth, 'alertmanager_auth') : null,
      config.request_timeout,
    );
    silencer = new Silencer({
      nc,
      js,
      subjects,
      validator: options.validator,
      store,
      api,
      metrics,
      logger,
      clock,
      durableName: `alertmanager-silencer-${options.gatewayHost}`,
      maxMs: config.silence_max,
      createdBy: config.silence_created_by,
    });
    silencer.events.on('silenced', (...args: unknown[]) => events.emit('silenced', ...args));
    silencer.events.on('silence_failed', (...args: unknown[]) => events.emit('silence_failed', ...args));
    await silencer.start();
  }

  const server = new WebhookServer(
    { path: config.path, auth: incomingAuth, maxBodyBytes: config.max_body_bytes },
    handle,
    metrics,
    logger,
    (outcome, detail) => events.emit('rejected', outcome, detail),
  );
  const url = await server.listen(options.listen);
  logger.info({ url, silences: config.alertmanager_url ?? 'off' }, 'Alertmanager webhook listening');
  return {
    url,
    events,
    async close() {
      await server.close();
      silencer?.stop();
    },
  };
}
