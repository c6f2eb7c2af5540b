import * as z from 'zod';
import { compileSafeRegex, RegexSource, type CheckResult, type Labels, type Severity } from '../../shared/index.ts';
import { matchesAll } from '../silences/index.ts';
import { clip, formatValue, renderSummary } from './summary.ts';
import {
  RuleCommon,
  unknownPlaceholdersIssue,
  type AgentEvent,
  type RuleInstance,
  type RulePlugin,
  type Verdict,
} from './types.ts';
import { mapToObject, objectToMap, seriesKey } from './series-key.ts';

const PLACEHOLDERS = ['host', 'rule', 'check', 'status', 'message', 'target', 'attempts', 'max_attempts'] as const;
const DEFAULT_SUMMARY = '{host}: {check} is {status}: {message}';

const CheckRuleConfig = RuleCommon.extend({
  kind: z.literal('check'),
  /** Which agent checks this rule covers (regex on the check name); all when omitted. */
  check: RegexSource.optional(),
  check_kind: z.string().optional(),
  /** Nagios max_check_attempts: consecutive non-OK results before the state is hard and the alert fires. */
  max_attempts: z.number().int().min(1).max(100).default(3),
  /** Consecutive OK results before a hard problem recovers. */
  recovery_attempts: z.number().int().min(1).max(100).default(1),
  /** An UNKNOWN result counts as this severity. */
  unknown_as: z.enum(['warning', 'critical']).default('warning'),
})
  .strict()
  .superRefine((rule, ctx) => unknownPlaceholdersIssue(rule.summary, PLACEHOLDERS, ctx));
type CheckRuleConfig = z.infer<typeof CheckRuleConfig>;

/** Soft/hard state of one check series. */
interface CheckState {
  failures: number;
  oks: number;
  hard: Severity | null;
}
const isCheckState = (v: unknown): v is CheckState =>
  typeof v === 'object' && v !== null && typeof (v as CheckState).failures === 'number';

class CheckRule implements RuleInstance {
  readonly kind = 'check' as const;
  readonly name: string;
  readonly forMs: number;
  private readonly checkRe: RegExp | null;
  private states = new Map<string, CheckState>();

  constructor(private readonly config: CheckRuleConfig) {
    this.name = config.name;
    this.forMs = config.for;
    this.checkRe = config.check ? compileSafeRegex(config.check, '', 'check') : null;
  }

  onEvent(event: AgentEvent): Verdict[] {
    if (event.kind !== 'check') return [];
    if (this.checkRe && !this.checkRe.test(event.check)) return [];
    if (this.config.check_kind && this.config.check_kind !== event.checkKind) return [];
    const labels: Labels = { ...(event.labels ?? {}), check: event.check };
    if (!matchesAll(this.config.match, labels)) return [];
    return [this.judge(event, labels)];
  }

  private judge(result: CheckResult, labels: Labels): Verdict {
    const key = seriesKey(result.host, labels);
    const state = this.states.get(key) ?? { failures: 0, oks: 0, hard: null };
    const observed: Severity | null =
      result.status === 'ok' ? null : result.status === 'unknown' ? this.config.unknown_as : result.status;
    if (observed === null) {
      state.failures = 0;
      state.oks += 1;
      if (state.hard !== null && state.oks >= this.config.recovery_attempts) state.hard = null;
    } else {
      state.oks = 0;
      state.failures += 1;
      // Soft until max_attempts in a row; a hard problem follows the latest severity.
      if (state.failures >= this.config.max_attempts || state.hard !== null) state.hard = observed;
    }
    if (state.hard === null && state.failures === 0) this.states.delete(key);
    else this.states.set(key, state);
    const vars = {
      host: result.host,
      rule: this.name,
      check: result.check,
      status: result.status === 'ok' ? 'OK' : result.status,
      message: clip(result.message, 300),
      target: result.target ?? '',
      attempts: String(state.failures),
      max_attempts: String(this.config.max_attempts),
    };
    const value = result.latencyMs === null ? null : Number(formatValue(result.latencyMs));
    return {
      host: result.host,
      labels,
      severity: state.hard,
      value: Number.isFinite(value) ? value : null,
      summary: renderSummary(this.config.summary ?? DEFAULT_SUMMARY, vars, labels, DEFAULT_SUMMARY),
    };
  }

  snapshot(): unknown {
    return mapToObject(this.states);
  }
  restore(state: unknown): void {
    this.states = objectToMap(state, isCheckState);
  }
}

export const checkRule: RulePlugin<typeof CheckRuleConfig> = {
  kind: 'check',
  configSchema: CheckRuleConfig,
  create: (config) => new CheckRule(config),
};
