import * as z from 'zod';
import {
  Duration,
  type Severity,
  type CheckResult,
  type Heartbeat,
  type Labels,
  type LogMatch,
  type ResourceSample,
} from '../../shared/index.ts';
import { MatcherText, unknownPlaceholdersIssue } from './common-config.ts';

export type AgentEvent = ResourceSample | CheckResult | LogMatch;
/**
 * Alert kinds raised by the engine, the collector and the gateway themselves, never by a registered rule: a rule
 * plugin may not take one of these names (the rule registry test checks it).
 */
export const ENGINE_KINDS = ['flapping', 'external', 'watchdog'] as const;
export type EngineKind = (typeof ENGINE_KINDS)[number];

/**
 * What a rule says about one series (host + labels) right now. `severity: null` means the
 * condition is clear. The engine turns verdicts into alert transitions (pending, for, flap,
 * silences, inhibition); rules only judge.
 */
export interface Verdict {
  host: string;
  labels: Labels;
  severity: Severity | null;
  value: number | null;
  /** The sentence read out on the phone, describing the current value. */
  summary: string;
  /** seriesKey(host, labels) when the rule has it at hand: the engine then does not build it again. */
  key?: string;
}

export interface RuleInstance {
  readonly name: string;
  readonly kind: string;
  /** How long a condition must hold before the alert fires (Prometheus `for`). */
  readonly forMs: number;
  /**
   * 'clock': judged on what arrives live, not on EVENTS (host_down: heartbeats, never replayed), so its `now`, its
   * transitions' times and its `for` timer are our clock. Otherwise event time (alerts/event-time.ts).
   */
  readonly timeBase?: 'clock';
  onEvent?(event: AgentEvent, now: number): Verdict[];
  onHeartbeat?(heartbeat: Heartbeat, now: number): Verdict[];
  /** Time-driven judgements: sliding windows, missing heartbeats. */
  onTick?(now: number): Verdict[];
  /** JSON-safe state needed after a restart (checkpointed). */
  snapshot(): unknown;
  restore(state: unknown): void;
  /** Called once after restore with the collector's start time (e.g. to grace host-down timers). */
  resume?(now: number): void;
}

export interface RulePlugin<S extends z.ZodType = z.ZodType> {
  /** Must equal the `kind` literal of configSchema (the rule registry test checks it). */
  kind: string;
  configSchema: S;
  create(config: z.infer<S>): RuleInstance;
}

/** Fields every rule has: identity, host and label selection, timing and notification overrides. */
export const RuleCommon = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.:/-]{1,100}$/, {
    error: 'expected a rule name of letters, digits and _ . : / - (at most 100)',
  }),
  /** Host globs ("web*"); empty = every host. */
  hosts: z.array(z.string().min(1)).default([]),
  exclude_hosts: z.array(z.string().min(1)).default([]),
  /** Label matchers on the series ("mountpoint=/", "device=~sd.*"). */
  match: z.array(MatcherText).default([]),
  for: Duration.default(0),
  /** Re-notify while firing and not acknowledged; overrides defaults.repeat_interval. */
  repeat_interval: Duration.optional(),
  /** Summary sentence template; each rule kind lists the placeholders it fills. */
  summary: z.string().min(1).max(500).optional(),
  /** Per-rule flap detection; overrides defaults.flapping. */
  flapping: z.lazy(() => FlappingConfig).optional(),
});

export const FlappingConfig = z
  .object({
    enabled: z.boolean().default(true),
    /** Percent state change (Nagios weighting over the last 21 results) that starts flapping. */
    high_threshold: z.number().min(0).max(100).default(30),
    /** Percent below which flapping stops. */
    low_threshold: z.number().min(0).max(100).default(15),
  })
  .strict()
  .refine((f) => f.low_threshold <= f.high_threshold, { error: 'expected low_threshold <= high_threshold' });
export type FlappingConfig = z.infer<typeof FlappingConfig>;

export { unknownPlaceholdersIssue };
