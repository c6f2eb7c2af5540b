import { compileSafeRegex, safeRegexProblem, type Labels, type Severity } from '../../shared/index.ts';
import type { LogFileConfig } from '../config.ts';

export interface RuleMatch {
  rule: string;
  severity: Severity;
  labels?: Labels;
}

interface CompiledRule {
  name: string;
  severity: Severity;
  regex: RegExp;
  capture: string[] | null;
}

/** The rules of one file, compiled once. A line can match several rules; each match is its own event. */
export class RuleSet {
  private readonly rules: CompiledRule[];

  /** `where` names the rules in errors, e.g. "logs[0].rules". */
  constructor(config: LogFileConfig['rules'], where = 'rules') {
    this.rules = config.map((rule, i) => ({
      name: rule.name,
      severity: rule.severity,
      regex: compileSafeRegex(rule.pattern, rule.ignore_case ? 'i' : '', `${where}[${i}].pattern`),
      capture: rule.capture ?? null,
    }));
    if (this.rules.length > 1) {
      const plain = (source: string): string => source.replace(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?:');
      const combined = this.rules.map((rule) => `(?:${plain(rule.regex.source)})`).join('|');
      // Twenty linear patterns can still add up past the linear engine's size limit; then match one by one.
      if (safeRegexProblem(combined) === null) this.prefilter = new RegExp(combined);
    }
  }

  /**
   * All patterns as one alternation: most lines match nothing, and one pass of a combined regex is
   * ~5x cheaper than twenty (bench). Named groups become plain groups (names may repeat across rules);
   * backreferences are refused at config load (safe-regex.ts), so renumbering groups changes nothing.
   */
  private prefilter: RegExp | null = null;

  match(line: string): RuleMatch[] {
    if (this.prefilter && !this.prefilter.test(line)) return [];
    const found: RuleMatch[] = [];
    for (const rule of this.rules) {
      const m = rule.regex.exec(line);
      if (!m) continue;
      const labels: Labels = {};
      for (const [name, value] of Object.entries(m.groups ?? {})) {
        if (value !== undefined && (rule.capture === null || rule.capture.includes(name)))
          labels[name] = value.slice(0, 1024);
      }
      found.push(
        Object.keys(labels).length > 0
          ? { rule: rule.name, severity: rule.severity, labels }
          : { rule: rule.name, severity: rule.severity },
      );
    }
    return found;
  }
}

/**
 * Token bucket per rule: `burst` matches at once, refilled at `perSecond`. What it refuses is counted
 * and the count rides on the next published match of that rule (LogMatch.suppressed).
 */
export class FloodLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  allow(rule: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(rule) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(rule, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
