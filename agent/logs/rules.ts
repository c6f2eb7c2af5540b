import type { Labels, Severity } from '../../shared/index.ts';
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

  constructor(config: LogFileConfig['rules']) {
    this.rules = config.map((rule) => ({
      name: rule.name,
      severity: rule.severity,
      regex: new RegExp(rule.pattern, rule.ignore_case ? 'i' : ''),
      capture: rule.capture ?? null,
    }));
  }

  match(line: string): RuleMatch[] {
    const found: RuleMatch[] = [];
    for (const rule of this.rules) {
      const m = rule.regex.exec(line);
      if (!m) continue;
      const labels: Labels = {};
      for (const [name, value] of Object.entries(m.groups ?? {})) {
        if (value !== undefined && (rule.capture === null || rule.capture.includes(name))) labels[name] = value.slice(0, 1024);
      }
      found.push(Object.keys(labels).length > 0 ? { rule: rule.name, severity: rule.severity, labels } : { rule: rule.name, severity: rule.severity });
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

  constructor(private readonly perSecond: number, private readonly burst: number, private readonly now: () => number = Date.now) {}

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
