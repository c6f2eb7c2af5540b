import * as z from 'zod';
import { Duration, compileSafeRegex, RegexSource, Severity, type Labels } from '../../shared/index.ts';
import { matchesAll } from '../silences/index.ts';
import { clip, formatDuration, renderSummary } from './summary.ts';
import {
  RuleCommon,
  unknownPlaceholdersIssue,
  type AgentEvent,
  type RuleInstance,
  type RulePlugin,
  type Verdict,
} from './types.ts';
import { mapToObject, objectToMap, seriesKey } from './series-key.ts';

const PLACEHOLDERS = ['host', 'rule', 'log_rule', 'count', 'window', 'file', 'line'] as const;
const DEFAULT_SUMMARY = '{host}: {count} log lines matching {log_rule} in {file} within {window}, the last: {line}';
const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

const LogRuleConfig = RuleCommon.extend({
  kind: z.literal('log'),
  /** Agent-side log rule names this covers (regex); all when omitted. */
  log_rule: RegexSource.optional(),
  /** Further filter on the matched line (regex). */
  pattern: RegexSource.optional(),
  /** Fire when at least `count` matches arrived within `within` (1 = every match). */
  count: z.number().int().min(1).max(1_000_000).default(1),
  within: Duration.default(300_000),
  /** Alert severity; by default the highest severity the agent gave the matches in the window. */
  severity: Severity.optional(),
})
  .strict()
  .superRefine((rule, ctx) => unknownPlaceholdersIssue(rule.summary, PLACEHOLDERS, ctx));
type LogRuleConfig = z.infer<typeof LogRuleConfig>;

interface LogSeries {
  host: string;
  labels: Labels;
  /** [second, matches] pairs inside the window, oldest first; `suppressed` matches count too. */
  hits: [number, number][];
  severity: Severity;
  file: string;
  line: string;
  firing: boolean;
}
const isLogSeries = (v: unknown): v is LogSeries =>
  typeof v === 'object' && v !== null && Array.isArray((v as LogSeries).hits);

// Log lines are hostile input: no control characters reach a summary, a speech engine or a terminal.
function speakable(line: string): string {
  return clip(line.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim(), 160);
}

class LogRule implements RuleInstance {
  readonly kind = 'log' as const;
  readonly name: string;
  readonly forMs: number;
  private readonly ruleRe: RegExp | null;
  private readonly lineRe: RegExp | null;
  private series = new Map<string, LogSeries>();

  constructor(private readonly config: LogRuleConfig) {
    this.name = config.name;
    this.forMs = config.for;
    this.ruleRe = config.log_rule ? compileSafeRegex(config.log_rule, '', 'log_rule') : null;
    this.lineRe = config.pattern ? compileSafeRegex(config.pattern, '', 'pattern') : null;
  }

  onEvent(event: AgentEvent, now: number): Verdict[] {
    if (event.kind !== 'log') return [];
    if (this.ruleRe && !this.ruleRe.test(event.rule)) return [];
    if (this.lineRe && !this.lineRe.test(event.line)) return [];
    const labels: Labels = { ...(event.labels ?? {}), log_rule: event.rule };
    if (!matchesAll(this.config.match, labels)) return [];
    const key = seriesKey(event.host, labels);
    const series = this.series.get(key) ?? {
      host: event.host,
      labels,
      hits: [],
      severity: event.severity,
      file: event.file,
      line: '',
      firing: false,
    };
    // Window by the agent's timestamp (replays after downtime must not pile old lines into "now"), never ahead of our
    // clock.
    const at = Math.min(event.ts, now);
    if (at <= now - this.config.within) return [];
    // Matches are counted per second: a flood costs one entry a second, not one per line.
    const last = series.hits[series.hits.length - 1];
    const second = Math.max(Math.floor(at / 1000) * 1000, last?.[0] ?? 0);
    if (last && last[0] === second) last[1] += 1 + event.suppressed;
    else series.hits.push([second, 1 + event.suppressed]);
    series.file = event.file;
    series.line = speakable(event.line);
    series.severity =
      series.firing || series.hits.length > 1 ? maxSeverity(series.severity, event.severity) : event.severity;
    this.series.set(key, series);
    return [this.judge(series, now)];
  }

  onTick(now: number): Verdict[] {
    const verdicts: Verdict[] = [];
    for (const [key, series] of this.series) {
      const wasFiring = series.firing;
      this.prune(series, now);
      if (wasFiring && !this.reached(series)) verdicts.push(this.judge(series, now));
      if (series.hits.length === 0 && !series.firing) this.series.delete(key);
    }
    return verdicts;
  }

  private prune(series: LogSeries, now: number): void {
    const horizon = now - this.config.within;
    while (series.hits.length > 0 && series.hits[0]![0] <= horizon) series.hits.shift();
  }

  private reached(series: LogSeries): boolean {
    return count(series) >= this.config.count;
  }

  private judge(series: LogSeries, now: number): Verdict {
    this.prune(series, now);
    series.firing = this.reached(series);
    const total = count(series);
    const window = formatDuration(this.config.within);
    const vars = {
      host: series.host,
      rule: this.name,
      log_rule: series.labels.log_rule ?? '',
      count: String(total),
      window,
      file: series.file,
      line: series.line,
    };
    const summary = series.firing
      ? renderSummary(this.config.summary ?? DEFAULT_SUMMARY, vars, series.labels, DEFAULT_SUMMARY)
      : `${series.host}: ${vars.log_rule} is quiet again, ` +
        `${total} matching log line${total === 1 ? '' : 's'} within ${window}`;
    return {
      host: series.host,
      labels: series.labels,
      severity: series.firing ? (this.config.severity ?? series.severity) : null,
      value: total,
      summary,
    };
  }

  snapshot(): unknown {
    return mapToObject(this.series);
  }
  restore(state: unknown): void {
    this.series = objectToMap(state, isLogSeries);
  }
}

function count(series: LogSeries): number {
  return series.hits.reduce((sum, [, n]) => sum + n, 0);
}

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

export const logRule: RulePlugin<typeof LogRuleConfig> = {
  kind: 'log',
  configSchema: LogRuleConfig,
  create: (config) => new LogRule(config),
};
