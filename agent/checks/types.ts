import * as z from 'zod';
import { Labels, type CheckStatus, type MetricPoint } from '../../shared/index.ts';
import { DurationAtLeast } from '../config-types.ts';
import type { Wake } from './probes/connection-watch.ts';

/** Fields every check has, whatever its kind. Plugins extend this with their own. */
export const CheckBase = z.object({
  /** Unique per agent; the collector's rules refer to it. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,200}$/, { error: 'expected a check name of letters, digits, "_", ".", ":" or "-"' }),
  interval: DurationAtLeast(100, '100ms').default(30_000),
  /** A probe that takes longer is abandoned and reported critical; it never delays other checks. */
  timeout: DurationAtLeast(10, '10ms').default(10_000),
  labels: Labels.optional(),
  /** After a non-OK result, run again this soon (until retry_attempts non-OK in a row); default check_retry.interval */
  retry_interval: DurationAtLeast(10, '10ms').optional(),
  /** Non-OK results in a row run at retry_interval (the collector's max_attempts); default check_retry.attempts. */
  retry_attempts: z.number().int().min(1).max(100).optional(),
});

/** What a probe found. The core adds the envelope (id, host, ts, seq) and publishes it. */
export interface CheckOutcome {
  status: CheckStatus;
  message: string;
  /** Time to the protocol-level answer, in ms; null when no answer came. */
  latencyMs: number | null;
  target?: string;
  metrics?: MetricPoint[];
}

export interface CheckContext {
  /** Aborted when the check's timeout passes or the agent stops: close sockets and return. */
  signal: AbortSignal;
  timeoutMs: number;
}

export interface CheckInstance {
  run(ctx: CheckContext): Promise<CheckOutcome>;
  /** Human description of what is probed, e.g. "tcp://127.0.0.1:22". */
  target: string;
  close?(): void;
  /**
   * A check that can hold its connection between runs (http/https): the scheduler starts the watch when it is on
   * (`enabled`, the check's own setting, or else the agent's connection_watch) and runs the check when it wakes.
   */
  connectionWatch?: { enabled: boolean | undefined; start(wake: Wake): void };
}

export interface CheckPlugin<S extends z.ZodType = z.ZodType> {
  kind: string;
  /** Other `kind:` values that select this plugin (e.g. https for http). */
  aliases?: readonly string[];
  /** Each plugin's schema is its documentation and its config validation. */
  configSchema: S;
  /** One line for agent/README.md and `offhook agent --help-checks`. */
  description: string;
  create(config: z.infer<S>): CheckInstance;
}

export function definePlugin<S extends z.ZodType>(plugin: CheckPlugin<S>): CheckPlugin<S> {
  return plugin;
}

export const critical = (message: string, latencyMs: number | null = null, target?: string): CheckOutcome => ({
  status: 'critical',
  message,
  latencyMs,
  ...(target ? { target } : {}),
});
