import type { z } from 'zod';
import type { Alert, Logger, Registry } from '../../shared/index.ts';

/** Why a notification goes out; receivers may word it differently (and routes may filter on it). */
export type NotificationReason = 'firing' | 'repeat' | 'resolved' | 'flapping' | 'fallback';

export interface NotificationBatch {
  receiver: string;
  reason: NotificationReason;
  /** firing when at least one alert fires (Alertmanager's rule). */
  status: 'firing' | 'resolved';
  alerts: Alert[];
  /** Base URL of the collector's status page, for links in messages. */
  externalUrl: string;
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
}

/** A receiver kind: one file under collector/notifiers/, one line in the registry. */
export interface NotifierPlugin<S extends z.ZodType = z.ZodType> {
  kind: string;
  configSchema: S;
  create(config: z.infer<S>, deps: NotifierDeps): Notifier;
}

/** What the alert engine hands notifications to; the dispatcher implements it. */
export interface NotificationSink {
  /** Fire-and-forget: routing, dedup (notification log), retry and rate limits happen behind it. */
  submit(alert: Alert, reason: NotificationReason): void;
}
