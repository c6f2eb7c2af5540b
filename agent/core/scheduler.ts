import type { Logger } from '../../shared/index.ts';
import type { CheckConfig, CheckInstance, CheckOutcome } from '../checks/index.ts';

export interface ScheduledCheck {
  config: CheckConfig;
  instance: CheckInstance;
}

export type OutcomeHandler = (check: ScheduledCheck, outcome: CheckOutcome, durationMs: number, failure: 'timeout' | 'error' | null) => void;

/**
 * Runs every check on its own timer: first run spread over the interval (so a fleet restarted at once
 * does not probe in lockstep), then every interval ±10 %. A run that passes its timeout is aborted and
 * reported critical; runs of one check never overlap and never wait for another check.
 */
export class CheckScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, AbortController>();
  private stopped = false;

  constructor(
    private readonly checks: ScheduledCheck[],
    private readonly onOutcome: OutcomeHandler,
    private readonly logger: Logger,
    private readonly random: () => number = Math.random,
  ) {}

  start(): void {
    for (const check of this.checks) this.schedule(check, this.random() * Math.min(check.config.interval, 10_000));
  }

  private schedule(check: ScheduledCheck, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => void this.runAndReschedule(check), delayMs);
    this.timers.set(check.config.name, timer);
  }

  private async runAndReschedule(check: ScheduledCheck): Promise<void> {
    await this.runOnce(check);
    const jitter = 1 + (this.random() - 0.5) * 0.2;
    this.schedule(check, check.config.interval * jitter);
  }

  /** One run with its timeout; never throws. */
  async runOnce(check: ScheduledCheck): Promise<void> {
    const { config, instance } = check;
    const controller = new AbortController();
    this.running.set(config.name, controller);
    const start = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let outcome: CheckOutcome;
    let failure: 'timeout' | 'error' | null = null;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
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
      const detail = error.code && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message;
      outcome = { status: 'critical', message: `${instance.target}: ${detail}`.slice(0, 2000), latencyMs: null, target: instance.target };
      this.logger.debug({ check: config.name, err: error.message }, 'check failed');
    } finally {
      clearTimeout(timer);
      this.running.delete(config.name);
    }
    if (this.stopped) return;
    this.onOutcome(check, outcome, performance.now() - start, failure);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const controller of this.running.values()) controller.abort(new Error('agent stopping'));
    for (const check of this.checks) check.instance.close?.();
  }
}
