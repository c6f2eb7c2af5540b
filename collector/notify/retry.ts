import type { Clock } from '../../shared/index.ts';
import type { Notifier, NotificationBatch, NotifyOutcome } from './types.ts';

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type AttemptOutcome = 'ok' | 'retryable' | 'permanent' | 'timeout';

export interface DeliveryResult {
  outcome: NotifyOutcome;
  attempts: number;
}

/** Exponential: initial, 2×, 4×, … capped at max. Attempt numbers start at 1. */
export function backoffMs(policy: RetryPolicy, failedAttempt: number): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (failedAttempt - 1));
}

export function sleep(clock: Clock, ms: number, cancel: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (cancel.aborted) return resolve();
    const onCancel = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      cancel.removeEventListener('abort', onCancel);
      resolve();
    }, ms);
    cancel.addEventListener('abort', onCancel, { once: true });
  });
}

/**
 * One attempt bounded by `timeoutMs`: the notifier gets an AbortSignal, and the attempt ends at the
 * deadline even if the notifier ignores it. A thrown error counts as retryable.
 */
export async function attemptOnce(
  notifier: Notifier,
  batch: NotificationBatch,
  timeoutMs: number,
  clock: Clock,
  cancel: AbortSignal,
): Promise<{ outcome: NotifyOutcome; kind: AttemptOutcome }> {
  const controller = new AbortController();
  let stop = (): void => {};
  const deadline = new Promise<{ outcome: NotifyOutcome; kind: AttemptOutcome }>((resolve) => {
    const onCancel = (): void => {
      controller.abort(new Error('dispatcher closing'));
      resolve({ outcome: { ok: false, retry: false, error: 'dispatcher closing' }, kind: 'timeout' });
    };
    const timer = clock.setTimeout(() => {
      controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      resolve({ outcome: { ok: false, retry: true, error: `timed out after ${timeoutMs} ms` }, kind: 'timeout' });
    }, timeoutMs);
    cancel.addEventListener('abort', onCancel, { once: true });
    stop = () => {
      clock.clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
    };
  });
  const attempt = notifier
    .notify(batch, controller.signal)
    .then((outcome) => ({
      outcome,
      kind: (outcome.ok ? 'ok' : outcome.retry ? 'retryable' : 'permanent') as AttemptOutcome,
    }))
    .catch((err: Error) => ({
      outcome: { ok: false, retry: true, error: err?.message ?? String(err) } as NotifyOutcome,
      kind: 'retryable' as AttemptOutcome,
    }));
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    stop();
  }
}

/** Alertmanager's RetryStage: back off and try again only while the notifier says retry. */
export async function deliverWithRetry(
  notifier: Notifier,
  batch: NotificationBatch,
  options: {
    policy: RetryPolicy;
    timeoutMs: number;
    clock: Clock;
    cancel: AbortSignal;
    onAttempt?: (kind: AttemptOutcome, seconds: number, error?: string) => void;
  },
): Promise<DeliveryResult> {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    const { outcome, kind } = await attemptOnce(notifier, batch, options.timeoutMs, options.clock, options.cancel);
    options.onAttempt?.(kind, (performance.now() - started) / 1000, outcome.ok ? undefined : outcome.error);
    if (outcome.ok || !outcome.retry || attempt >= options.policy.maxAttempts || options.cancel.aborted)
      return { outcome, attempts: attempt };
    await sleep(options.clock, backoffMs(options.policy, attempt), options.cancel);
    if (options.cancel.aborted) return { outcome, attempts: attempt };
  }
}
