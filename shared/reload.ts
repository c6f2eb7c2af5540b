import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import { createRegistry, initCounter } from './metrics.ts';

/**
 * What a SIGHUP came to: applied (the service restarted in-process on the new config), unchanged (same bytes),
 * invalid (the file does not load: the old config runs on), refused (a restart now would do harm, e.g. hang up the
 * gateway's call: the old config runs on), failed (the service did not stop or start again: the process exits 1).
 */
export const RELOAD_OUTCOMES = ['applied', 'unchanged', 'invalid', 'refused', 'failed'] as const;
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number];

/** Outcomes after which the file on disk is the config in effect, as Prometheus's last_reload_successful means. */
const IN_EFFECT: ReadonlySet<ReloadOutcome> = new Set(['applied', 'unchanged']);

/**
 * The metrics that outlive an in-process restart: Node's process metrics and the reload metrics, made once per
 * process. Each service instance gets a registry of its own (its metrics start afresh, as after a process restart,
 * and registering them again cannot collide), with these same metric objects registered in it.
 */
export class ProcessMetrics {
  private readonly base: Registry;
  private readonly reloadSuccessful: Gauge;
  private readonly reloadSuccessTime: Gauge;
  private readonly reloads: Counter<'outcome'>;

  constructor(private readonly processName: string) {
    this.base = createRegistry(processName);
    const registers = [this.base];
    this.reloadSuccessful = new Gauge({
      name: 'offhook_config_last_reload_successful',
      help: 'Whether the last config reload (start or SIGHUP) left the file on disk in effect (1) or not (0)',
      registers,
    });
    this.reloadSuccessTime = new Gauge({
      name: 'offhook_config_last_reload_success_timestamp_seconds',
      help: 'Unix time of the last config load or reload that left the file on disk in effect',
      registers,
    });
    this.reloads = initCounter(
      new Counter({
        name: 'offhook_config_reloads_total',
        help: 'Config reloads on SIGHUP, by outcome (applied, unchanged, invalid, refused, failed)',
        labelNames: ['outcome'],
        registers,
      }),
      RELOAD_OUTCOMES.map((outcome) => ({ outcome })),
    );
    // The load at start is the first successful one, as in Prometheus.
    this.reloadSuccessful.set(1);
    this.reloadSuccessTime.setToCurrentTime();
  }

  /** A registry for one service instance, holding the process-lifetime metrics. */
  instanceRegistry(): Registry {
    const registry = new Registry();
    registry.setDefaultLabels({ process: this.processName });
    // getMetricsAsArray hands back the metric objects themselves (typed as their plain shape).
    for (const metric of this.base.getMetricsAsArray()) registry.registerMetric(metric as unknown as Metric);
    return registry;
  }

  record(outcome: ReloadOutcome): void {
    this.reloads.inc({ outcome });
    const inEffect = IN_EFFECT.has(outcome);
    this.reloadSuccessful.set(inEffect ? 1 : 0);
    if (inEffect) this.reloadSuccessTime.setToCurrentTime();
  }
}

/**
 * Runs `run` one at a time: a request while it runs makes one more run after it, however many arrive (a second
 * SIGHUP during a reload reads the file again once the first is done, so the last edit is what is applied).
 */
export class SerialRuns {
  private running: Promise<void> | null = null;
  private again = false;
  private cancelled = false;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs now, or once more after the run in progress ('queued'), or never after cancel(). */
  request(): 'started' | 'queued' | 'cancelled' {
    if (this.cancelled) return 'cancelled';
    if (this.running) {
      this.again = true;
      return 'queued';
    }
    this.running = this.loop();
    return 'started';
  }

  /** No more runs; resolves once the one in progress (if any) has ended. */
  cancel(): Promise<void> {
    this.cancelled = true;
    this.again = false;
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.run();
      } catch (err) {
        this.onError(err);
      }
    } while (this.again && !this.cancelled);
    this.running = null;
  }
}
