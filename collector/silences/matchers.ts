import * as z from 'zod';
import { compileSafeRegex, safeRegexProblem } from '../../shared/index.ts';

/** One label matcher, Alertmanager style: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

const MATCHER_RE = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*([\s\S]*?)\s*$/;
const EXPECTED = 'expected a matcher like host=web1, \'host=~"web.*"\', \'severity!="info"\' or mountpoint!=/boot';

/**
 * Alertmanager's matcher syntax (as amtool takes it): `name op value`, the value bare or in double quotes with
 * \" \\ and \n escapes; any other backslash is kept, so a bare `device=~sd\d+` means what it always did.
 */
export function parseMatcher(text: string): Matcher | string {
  const match = MATCHER_RE.exec(text);
  if (!match) return `${EXPECTED}, got ${JSON.stringify(text)}`;
  const [, name, op, raw] = match as unknown as [string, string, Matcher['op'], string];
  const value = unquote(raw);
  if (value === null) {
    return `${JSON.stringify(text)}: a double quote inside the value must be escaped (\\"), and a quoted value closed`;
  }
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

/** The value of a matcher as Alertmanager reads it; null for a stray or missing double quote. */
function unquote(raw: string): string | null {
  const quoted = raw.startsWith('"');
  const body = quoted ? raw.slice(1) : raw;
  let value = '';
  let open = quoted;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted && !open) return null; // text after the closing quote
    if (c === '\\' && i < body.length - 1) {
      const next = body[++i]!;
      value += next === 'n' ? '\n' : next === '"' || next === '\\' ? next : `\\${next}`;
    } else if (c === '"') {
      if (!open) return null;
      open = false;
    } else {
      value += c;
    }
  }
  return open ? null : value;
}

/**
 * Matchers as amtool takes them: one per argument, or several in one `{a="1", b=~"2"}` (commas inside quotes are
 * part of the value).
 */
export function parseMatchers(text: string): Matcher[] | string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    const one = parseMatcher(text);
    return typeof one === 'string' ? one : [one];
  }
  if (!trimmed.endsWith('}')) return `${JSON.stringify(text)}: a { must be closed with }`;
  const matchers: Matcher[] = [];
  for (const part of splitOutsideQuotes(trimmed.slice(1, -1))) {
    if (part.trim() === '') continue; // {} and a trailing comma, as Alertmanager allows
    const one = parseMatcher(part);
    if (typeof one === 'string') return one;
    matchers.push(one);
  }
  return matchers;
}

function splitOutsideQuotes(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inQuotes && c === '\\' && i < text.length - 1) {
      current += c + text[++i]!;
      continue;
    }
    if (c === '"') inQuotes = !inQuotes;
    if (c === ',' && !inQuotes) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
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

export function matchesAll(
  matchers: readonly Matcher[],
  labels: Readonly<Record<string, string | undefined>>,
): boolean {
  return matchers.every((m) => matchesOne(m, labels));
}

/** Bare when that reads back the same, else quoted the way parseMatcher reads it. */
export function formatMatcher(m: Matcher): string {
  if (m.value !== '' && !/[\s"\\,{}]/.test(m.value)) return `${m.name}${m.op}${m.value}`;
  const escaped = m.value.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n');
  return `${m.name}${m.op}"${escaped}"`;
}

/** Host selection on a rule: shell-style globs ("web*", "db-?"); an empty list means every host. */
export function globToRegExp(glob: string): RegExp {
  const source = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
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
