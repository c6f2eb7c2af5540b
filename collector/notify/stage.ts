import type { Alert } from '../../shared/index.ts';
import type { ReceiverConfig } from './config.ts';
import type { ReceiverQueue } from './queue.ts';
import type { NotificationGroup, NotificationReason, SubmitContext } from './types.ts';

export interface ReceiverEntry {
  config: ReceiverConfig;
  queue: ReceiverQueue;
}

/** One submitted alert, as the engine (or the fallback intake) hands it over. */
export interface Submission {
  alert: Alert;
  reason: NotificationReason;
  context: SubmitContext;
}

/** One alert on its way to one receiver: what the route stage makes of a submission, per receiver. */
export interface Notification extends Submission {
  receiver: ReceiverEntry;
  /** Its aggregation group on the route that reached the receiver. */
  group: NotificationGroup;
  /** The notification-log key (fingerprint.generation.receiver.what), set by the dedup stage. */
  key?: string;
  /** What the receiver is told (idempotency.ts), set by the dedup stage with the pending entry. */
  idempotencyKey?: string;
}

/**
 * One stage of the notification pipeline (Alertmanager's notify.Stage): it gets the notifications that reached it
 * and returns those that go on now, counting what it drops. A stage that holds notifications back to send them
 * later (grouping: group_wait, group_interval) returns them later through `later`, which runs them through the
 * stages after it and hands them to their receivers' queues.
 */
export interface NotifyStage {
  readonly name: string;
  run(items: Notification[], later: (items: Notification[]) => Promise<void>): Notification[] | Promise<Notification[]>;
}

/** The gateway's reason for a fallback, as the log key, the pending entry and the receivers carry it. */
export function fallbackReasonOf(item: Submission): string | undefined {
  return item.reason === 'fallback' ? (item.context.fallbackReason ?? 'unspecified') : undefined;
}

/**
 * Runs notifications through `stages` in order, from `from` on, and hands what comes out to `deliver` (the receivers'
 * queues: rate limit → retry → send). Items go through the stages together, each stage seeing all of them.
 */
export async function runStages(
  stages: readonly NotifyStage[],
  items: Notification[],
  deliver: (items: Notification[]) => void,
  from = 0,
): Promise<void> {
  let current = items;
  for (let i = from; i < stages.length && current.length > 0; i++) {
    const next = i + 1;
    const out = stages[i]!.run(current, (held) => runStages(stages, held, deliver, next));
    // A stage that answers at once is not awaited: the stages up to the log lookup run in the submitter's turn.
    current = Array.isArray(out) ? out : await out;
  }
  if (current.length > 0) deliver(current);
}
