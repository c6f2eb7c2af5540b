import { z } from 'zod';
import { compileSafeRegex, safeRegexProblem } from '../shared/index.ts';

/** One label matcher, Alertmanager style: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MATCHER_RE = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*)$/;

export function parseMatcher(text: string): Matcher | string {
  const match = MATCHER_RE.exec(text.trim());
  if (!match) return `expected a matcher like "host=web1", "mountpoint!=/boot" or "device=~sd.*", got ${JSON.stringify(text)}`;
  const [, name, op, value] = match as unknown as [string, string, Matcher['op'], string];
  if (op === '=~' || op === '!~') {
    // Silences arrive from the CLI and over NATS: a pattern the linear-time engine cannot run is refused here.
    const problem = safeRegexProblem(`^(?:${value})$`);
    if (problem) {
      const reason = problem.replace(/^expected a valid regular expression/, 'invalid regular expression');
      return `${JSON.stringify(text)}: ${reason}`;
    }
  }
  return { name, op, value };
}

/** A matcher written as a string in YAML or on the command line. */
export const MatcherText = z.string().transform((text, ctx) => {
  const parsed = parseMatcher(text);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

const regexCache = new Map<string, RegExp>();
function anchored(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    if (regexCache.size > 1000) regexCache.clear();
    re = compileSafeRegex(`^(?:${source})$`, '', 'matcher');
    regexCache.set(source, re);
  }
  return re;
}

/** A missing label matches as the empty string, as in Prometheus. */
export function matchesOne(matcher: Matcher, labels: Readonly<Record<string, string | undefined>>): boolean {
  const actual = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return actual === matcher.value;
    case '!=':
      return actual !== matcher.value;
    case '=~':
      return anchored(matcher.value).test(actual);
    case '!~':
      return !anchored(matcher.value).test(actual);
  }
}

export function matchesAll(matchers: readonly Matcher[], labels: Readonly<Record<string, string | undefined>>): boolean {
  return matchers.every((m) => matchesOne(m, labels));
}

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.op}${m.value}`;
}

/** Host selection on a rule: shell-style globs ("web*", "db-?"); an empty list means every host. */
export function globToRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`, 'i');
}

export class HostSelector {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];
  constructor(include: readonly string[], exclude: readonly string[]) {
    this.include = include.map(globToRegExp);
    this.exclude = exclude.map(globToRegExp);
  }
  matches(host: string): boolean {
    if (this.include.length > 0 && !this.include.some((re) => re.test(host))) return false;
    return !this.exclude.some((re) => re.test(host));
  }
}
