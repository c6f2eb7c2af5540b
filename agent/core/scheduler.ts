import { systemClock, type Clock, type ClockTimer, type Logger } from '../../shared/index.ts';
import type { CheckConfig, CheckInstance, CheckOutcome } from '../checks/index.ts';
import type { EarlyRunReason } from '../checks/probes/connection-watch.ts';

export interface ScheduledCheck {
  config: CheckConfig;
  instance: CheckInstance;
}

export type OutcomeHandler = (
  check: ScheduledCheck,
  outcome: CheckOutcome,
  durationMs: number,
  failure: 'timeout' | 'error' | null,
) => void;

export interface SchedulerOptions {
  random?: () => number;
  clock?: Clock;
  /** Soft-state retries (config check_retry); a check's retry_interval / retry_attempts override them. */
  retry?: { interval: number; attempts: number };
  /** The agent's connection_watch: checks that can watch their connection and do not say otherwise do. */
  connectionWatch?: boolean;
  /** A check is run before its time, or would have been but for the limit (offhook_agent_check_early_runs_total). */
  onEarlyRun?: (check: ScheduledCheck, reason: EarlyRunReason, skipped: boolean) => void;
}

/**
 * Runs every check on its own timer: first run spread over the interval (so a fleet restarted at once
 * does not probe in lockstep), then every interval ±10 %. A run that passes its timeout is aborted and
 * reported critical; runs of one check never overlap and never wait for another check.
 * Soft states, like Nagios retry_interval: after a non-OK result the check runs again after its retry interval
 * (no jitter) until retry_attempts non-OK results in a row, so the collector's max_attempts is reached in a
 * fraction of a second instead of after max_attempts intervals; then (or on OK) back to the normal interval.
 * A check whose connection watch wakes (the server closed the held connection) runs at once, at most once per half
 * interval, so a server that closes every idle connection at once at most doubles its rate.
 */
export class CheckScheduler {
  private readonly timers = new Map<string, ClockTimer>();
  private readonly running = new Map<string, AbortController>();
  /** Non-OK results in a row, per check. */
  private readonly failures = new Map<string, number>();
  /** When each check last ran early (clock.monotonic()). */
  private readonly lastEarly = new Map<string, number>();
  private stopped = false;
  private readonly random: () => number;
  private readonly clock: Clock;

  constructor(
    private readonly checks: ScheduledCheck[],
    private readonly onOutcome: OutcomeHandler,
    private readonly logger: Logger,
    private readonly options: SchedulerOptions = {},
  ) {
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    for (const check of this.checks) {
      const watch = check.instance.connectionWatch;
      if (watch && (watch.enabled ?? this.options.connectionWatch ?? false))
        watch.start((reason) => this.runEarly(check, reason));
      this.schedule(check, this.random() * Math.min(check.config.interval, 10_000));
    }
  }

  /** Runs a check now instead of at its timer, unless it is running or ran early less than half an interval ago. */
  private runEarly(check: ScheduledCheck, reason: EarlyRunReason): void {
    const { name, interval } = check.config;
    // Running (the next run is scheduled in the same turn as the run's end): a wake then is news to that run.
    if (this.stopped || this.running.has(name)) return;
    const now = this.clock.monotonic();
    const last = this.lastEarly.get(name);
    if (last !== undefined && now - last < interval / 2) {
      this.logger.debug({ check: name, reason }, 'early run skipped: one ran less than half an interval ago');
      this.options.onEarlyRun?.(check, reason, true);
      return;
    }
    this.lastEarly.set(name, now);
    const timer = this.timers.get(name);
    if (timer) this.clock.clearTimeout(timer);
    this.timers.delete(name);
    this.options.onEarlyRun?.(check, reason, false);
    void this.runAndReschedule(check);
  }

  private schedule(check: ScheduledCheck, delayMs: number): void {
    if (this.stopped) return;
    const timer = this.clock.setTimeout(() => void this.runAndReschedule(check), delayMs);
    this.timers.set(check.config.name, timer);
  }

  private async runAndReschedule(check: ScheduledCheck): Promise<void> {
    this.schedule(check, this.nextDelay(check, await this.runOnce(check)));
  }

  /** The delay before the next run, given this run's status: a soft problem is retried soon. */
  nextDelay(check: ScheduledCheck, status: CheckOutcome['status'] | null): number {
    const { config } = check;
    const failures = status === null || status === 'ok' ? 0 : (this.failures.get(config.name) ?? 0) + 1;
    if (failures === 0) this.failures.delete(config.name);
    else this.failures.set(config.name, failures);
    const retryInterval = config.retry_interval ?? this.options.retry?.interval;
    const attempts = config.retry_attempts ?? this.options.retry?.attempts ?? 1;
    const soft = failures > 0 && failures < attempts;
    if (soft && retryInterval !== undefined && retryInterval < config.interval) return retryInterval;
    return config.interval * (1 + (this.random() - 0.5) * 0.2);
  }

  /** One run with its timeout; never throws. Returns the status reported (null when stopped meanwhile). */
  async runOnce(check: ScheduledCheck): Promise<CheckOutcome['status'] | null> {
    const { config, instance } = check;
    const controller = new AbortController();
    this.running.set(config.name, controller);
    const start = performance.now();
    let timer: ClockTimer | undefined;
    let outcome: CheckOutcome;
    let failure: 'timeout' | 'error' | null = null;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = this.clock.setTimeout(() => {
          const err = new Error(`timed out after ${config.timeout} ms`);
          err.name = 'CheckTimeout';
          controller.abort(err);
          reject(err);
        }, config.timeout);
      });
      outcome = await Promise.race([instance.run({ signal: controller.signal, timeoutMs: config.timeout }), timedOut]);
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      failure = error.name === 'CheckTimeout' ? 'timeout' : 'error';
      const detail =
        error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
      outcome = {
        status: 'critical',
        message: `${instance.target}: ${detail}`.slice(0, 2000),
        latencyMs: null,
        target: instance.target,
      };
      this.logger.debug({ check: config.name, err: error }, 'check failed');
    } finally {
      if (timer) this.clock.clearTimeout(timer);
      this.running.delete(config.name);
    }
    if (this.stopped) return null;
    this.onOutcome(check, outcome, performance.now() - start, failure);
    return outcome.status;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) this.clock.clearTimeout(timer);
    for (const controller of this.running.values()) controller.abort(new Error('agent stopping'));
    for (const check of this.checks) check.instance.close?.();
  }
}
