import * as z from 'zod';
import { ByPosition, type Labels, type MetricPoint, type Severity } from '../../shared/index.ts';
import { matchesAll } from '../silences/index.ts';
import { formatValue, renderSummary } from './summary.ts';
import {
  RuleCommon,
  unknownPlaceholdersIssue,
  type AgentEvent,
  type RuleInstance,
  type RulePlugin,
  type Verdict,
} from './types.ts';
import { mapToObject, objectToMap, seriesKey } from './series-key.ts';

const PLACEHOLDERS = ['host', 'rule', 'metric', 'value', 'level', 'relation', 'threshold'] as const;
const DEFAULT_SUMMARY = '{host}: {metric} is {value} ({level} {relation} {threshold})';

const ThresholdConfig = RuleCommon.extend({
  kind: z.literal('threshold'),
  /**
   * Metric name as the agent publishes it: a resource gauge (node_load1) or a check's metric (nagios_time,
   * probe_ssl_earliest_cert_expiry).
   */
  metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, { error: 'expected a metric name [a-zA-Z_:][a-zA-Z0-9_:]*' }),
  comparison: z.enum(['>', '>=', '<', '<=']).default('>'),
  warn: z.number().optional(),
  crit: z.number().optional(),
  /** Hysteresis for ">" rules: once raised, the alert clears only below this value. */
  clear_below: z.number().optional(),
  /** Hysteresis for "<" rules: once raised, the alert clears only above this value. */
  clear_above: z.number().optional(),
  /** Multiplies {value} and {threshold} in the summary only: ratios (0.95) are read out as percent (95) with 100. */
  summary_scale: z.number().positive().default(1),
})
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.warn === undefined && rule.crit === undefined)
      ctx.addIssue({ code: 'custom', path: ['crit'], message: 'expected at least one of warn or crit' });
    const above = rule.comparison.startsWith('>');
    if (above && rule.clear_above !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clear_above'],
        message: `expected clear_below for comparison "${rule.comparison}"`,
      });
    if (!above && rule.clear_below !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['clear_below'],
        message: `expected clear_above for comparison "${rule.comparison}"`,
      });
    const lowest = above
      ? Math.min(rule.warn ?? Infinity, rule.crit ?? Infinity)
      : Math.max(rule.warn ?? -Infinity, rule.crit ?? -Infinity);
    if (above && rule.clear_below !== undefined && rule.clear_below > lowest)
      ctx.addIssue({
        code: 'custom',
        path: ['clear_below'],
        message: `expected a value <= ${lowest} (the lowest alerting level)`,
      });
    if (!above && rule.clear_above !== undefined && rule.clear_above < lowest)
      ctx.addIssue({
        code: 'custom',
        path: ['clear_above'],
        message: `expected a value >= ${lowest} (the lowest alerting level)`,
      });
    unknownPlaceholdersIssue(rule.summary, PLACEHOLDERS, ctx);
  });
type ThresholdConfig = z.infer<typeof ThresholdConfig>;

/** Metric names some threshold rule reads: an event's index holds only their points. */
const readNames = new Set<string>();
const NO_POINTS: MetricPoint[] = [];
/**
 * The index of the last event's points by name, built once and shared by every threshold rule judging it (the rules
 * judge one event after the other); rebuilt when a rule reading a new name was created since.
 */
let lastIndex: { points: MetricPoint[]; names: number; byName: Map<string, MetricPoint[]> } | undefined;
/** By position, whether a rule reads the name last seen there; forgotten once a rule reading a new name exists. */
const readAt = new ByPosition<boolean>(5000);
let readAtNames = 0;

function isRead(name: string, at: number): boolean {
  if (readAtNames !== readNames.size) {
    readAt.clear();
    readAtNames = readNames.size;
  }
  return readAt.get(name, at) ?? readAt.set(name, at, readNames.has(name));
}

function pointsNamed(points: MetricPoint[], name: string): MetricPoint[] {
  if (lastIndex?.points !== points || lastIndex.names !== readNames.size) {
    const byName = new Map<string, MetricPoint[]>();
    for (let i = 0; i < points.length; i++) {
      const point = points[i]!;
      if (!isRead(point.name, i)) continue;
      const list = byName.get(point.name);
      if (list) list.push(point);
      else byName.set(point.name, [point]);
    }
    lastIndex = { points, names: readNames.size, byName };
  }
  return lastIndex.byName.get(name) ?? NO_POINTS;
}

const LEVEL_SEVERITY: Record<number, Severity | null> = { 0: null, 1: 'warning', 2: 'critical' };

function compare(op: ThresholdConfig['comparison'], value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

class ThresholdRule implements RuleInstance {
  readonly kind = 'threshold' as const;
  readonly name: string;
  readonly forMs: number;
  /** Current level per series (0 ok, 1 warning, 2 critical): hysteresis needs the past. */
  private levels = new Map<string, number>();

  constructor(private readonly config: ThresholdConfig) {
    this.name = config.name;
    this.forMs = config.for;
    readNames.add(config.metric);
  }

  onEvent(event: AgentEvent): Verdict[] {
    const points = event.kind === 'log' ? undefined : event.metrics;
    if (!points) return [];
    const verdicts: Verdict[] = [];
    for (const point of pointsNamed(points, this.config.metric)) {
      // A check's numbers are series of that check: the same labels a check rule uses, plus the point's own.
      const labels =
        event.kind === 'check' ? { ...event.labels, ...point.labels, check: event.check } : (point.labels ?? {});
      if (!matchesAll(this.config.match, labels)) continue;
      verdicts.push(this.judge(event.host, labels, point.value));
    }
    return verdicts;
  }

  private judge(host: string, labels: Labels, value: number): Verdict {
    const { comparison, warn, crit } = this.config;
    // A healthy fleet keeps no levels: its series need no key here (the engine builds one only if it has to).
    let key = this.levels.size > 0 ? seriesKey(host, labels) : undefined;
    const previous = key === undefined ? 0 : (this.levels.get(key) ?? 0);
    let level =
      crit !== undefined && compare(comparison, value, crit)
        ? 2
        : warn !== undefined && compare(comparison, value, warn)
          ? 1
          : 0;
    const clearAt = comparison.startsWith('>') ? this.config.clear_below : this.config.clear_above;
    if (level === 0 && previous > 0 && clearAt !== undefined) {
      const cleared = comparison.startsWith('>') ? value < clearAt : value > clearAt;
      if (!cleared) level = warn !== undefined ? 1 : previous;
    }
    if (level > 0) {
      key ??= seriesKey(host, labels);
      this.levels.set(key, level);
    } else if (key !== undefined) this.levels.delete(key);
    // Rendering is the costliest step; a series that is and was fine needs no sentence.
    const summary = level > 0 || previous > 0 ? this.describe(host, labels, value, level, clearAt) : '';
    const verdict: Verdict = { host, labels, severity: LEVEL_SEVERITY[level]!, value, summary };
    if (key !== undefined) verdict.key = key;
    return verdict;
  }

  private describe(host: string, labels: Labels, value: number, level: number, clearAt: number | undefined): string {
    const above = this.config.comparison.startsWith('>');
    const scale = this.config.summary_scale;
    const threshold =
      level === 2
        ? this.config.crit
        : level === 1
          ? this.config.warn
          : (clearAt ?? this.config.warn ?? this.config.crit);
    const vars = {
      host,
      rule: this.name,
      metric: this.config.metric,
      value: formatValue(value * scale),
      level: level === 2 ? 'critical' : level === 1 ? 'warning' : 'normal',
      relation: level === 0 ? (above ? 'below' : 'above') : above ? 'above' : 'below',
      threshold: formatValue(threshold === undefined ? null : threshold * scale),
    };
    return renderSummary(this.config.summary ?? DEFAULT_SUMMARY, vars, labels, DEFAULT_SUMMARY);
  }

  snapshot(): unknown {
    return mapToObject(this.levels);
  }
  restore(state: unknown): void {
    this.levels = objectToMap(state, (v): v is number => v === 1 || v === 2);
  }
}

export const thresholdRule: RulePlugin<typeof ThresholdConfig> = {
  kind: 'threshold',
  configSchema: ThresholdConfig,
  create: (config) => new ThresholdRule(config),
};
