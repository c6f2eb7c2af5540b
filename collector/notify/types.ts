import type * as z from 'zod';
import type { Alert, Logger, Registry } from '../../shared/index.ts';

/** Why a notification goes out; receivers may word it differently (and routes may filter on it). */
export type NotificationReason = 'firing' | 'repeat' | 'resolved' | 'flapping' | 'fallback';

/** Alertmanager's aggregation group a notification belongs to: its groupKey and group labels. */
export interface NotificationGroup {
  /** `<route path>:<group labels>` as Alertmanager builds it, e.g. `{}/{severity="page"}:{alertname="DiskFull"}`. */
  key: string;
  labels: Record<string, string>;
  /** The route's group_wait (ms): how long the group's first queued alert waits for others of its group. */
  wait?: number;
  /**
   * The route's group_interval (ms), when set: after the group's first notification, changes go no sooner than this
   * after the previous one, and each notification carries the whole group (group-interval.ts).
   */
  interval?: number;
}

export interface NotificationBatch {
  receiver: string;
  reason: NotificationReason;
  /** firing when at least one alert fires (Alertmanager's rule). */
  status: 'firing' | 'resolved';
  alerts: Alert[];
  /** The aggregation group every alert of the batch is in; a batch never mixes groups. */
  group?: NotificationGroup;
  /** Base URL of the collector's status page, for links in messages. */
  externalUrl: string;
  /** For reason 'fallback': why the gateway did not phone (FallbackRequest.reason), told by every receiver. */
  fallbackReason?: string;
  /** Each alert's idempotency key (idempotency.ts), in the order of `alerts`; a resend repeats them. */
  idempotencyKeys?: string[];
}

/**
 * Alertmanager's contract: the notifier says whether a failure is worth retrying; one retry
 * stage does the backoff for all of them.
 */
export type NotifyOutcome = { ok: true } | { ok: false; retry: boolean; error: string };

export interface Notifier {
  notify(batch: NotificationBatch, signal: AbortSignal): Promise<NotifyOutcome>;
  close?(): Promise<void>;
}

export interface NotifierDeps {
  logger: Logger;
  registry: Registry;
  /** The receiver's name from config (for logs and for receivers that label what they write). */
  receiverName?: string;
}

/**
 * A receiver kind: one file under collector/notify/, one line in the registry.
 * `configSchema` holds only the kind's own options; name, timeout, retry and rate limit are added
 * by config.ts, so the schema must be an object schema (its shape is merged).
 */
export interface NotifierPlugin<S extends z.ZodObject = z.ZodObject> {
  kind: string;
  configSchema: S;
  create(config: z.infer<S>, deps: NotifierDeps): Notifier;
}

/** What the alert engine hands notifications to; the dispatcher implements it. */
export interface NotificationSink {
  /**
   * Routing, dedup (notification log), retry and rate limits happen behind it. The dispatcher's
   * promise resolves once the notification is durably accepted (a pending entry in the
   * notification log that a restarted collector resumes) or deliberately not sent; await it
   * before forgetting an announcement, so a crash right after cannot lose it. Never rejects. With a `gate`
   * it resolves only after the gate does: resolve the gate before awaiting it.
   */
  submit(alert: Alert, reason: NotificationReason, context?: SubmitContext): void | Promise<void>;
}

export interface SubmitContext {
  /**
   * For reason 'repeat': which re-notification this is (1, 2, ...), part of the notification-log key
   * so a restarted collector does not send the same repeat twice. When omitted, the dispatcher
   * uses one more than the highest repeat it logged for that alert generation and receiver.
   */
  repeat?: number;
  /** For reason 'fallback': why the gateway gave up (FallbackRequest.reason), part of the log key. */
  fallbackReason?: string;
  /**
   * The engine's commit: resolves true once the record announcing this (with its outbox) is durably in KV, false
   * when it never will be (fenced off). Admission (the log lookup) runs beside that write; nothing is sent, and no
   * pending entry written, before it resolves true: a crash before then leaves no trace a restart could act on.
   * Must not reject.
   */
  gate?: Promise<boolean>;
}

/** Declares a plugin with its config type inferred from its schema. */
export function defineNotifier<S extends z.ZodObject>(plugin: NotifierPlugin<S>): NotifierPlugin<S> {
  return plugin;
}
