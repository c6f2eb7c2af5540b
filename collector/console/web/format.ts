/// <reference lib="dom" />
import type { ConsoleAlert } from '../api-schema.ts';

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? ` ${s % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ''}`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function ago(now: number, at: number): string {
  if (at <= 0) return 'never';
  return now - at < 1000 ? 'just now' : `${duration(now - at)} ago`;
}

export function clock(at: number): string {
  return at > 0 ? new Date(at).toLocaleString() : '-';
}

/** One matcher as the server parsed it (GET /console/api/matchers). */
export interface Matcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The fields a filter (and a silence) can match, as the collector's silenceTarget plus the console's own. */
export function alertTarget(a: ConsoleAlert): Record<string, string> {
  return {
    ...a.labels,
    host: a.host,
    rule: a.rule,
    alertname: a.rule,
    severity: a.severity,
    kind: a.ruleKind,
    state: a.state,
    ...(a.check ? { check: a.check } : {}),
  };
}

export function compileMatchers(matchers: Matcher[]): (a: ConsoleAlert) => boolean {
  const tests = matchers.map((m) => {
    const regex = m.op === '=~' || m.op === '!~' ? new RegExp(`^(?:${m.value})$`) : null;
    return (target: Record<string, string>): boolean => {
      const value = target[m.name] ?? '';
      if (m.op === '=') return value === m.value;
      if (m.op === '!=') return value !== m.value;
      return m.op === '=~' ? regex!.test(value) : !regex!.test(value);
    };
  });
  return (a) => {
    const target = alertTarget(a);
    return tests.every((t) => t(target));
  };
}

/** Text without an operator is a plain search over host, rule, check and summary. */
export function looksLikeMatchers(text: string): boolean {
  return /[=~]/.test(text);
}

export function textFilter(text: string): (a: ConsoleAlert) => boolean {
  const needle = text.trim().toLowerCase();
  return (a) => [a.host, a.rule, a.check ?? '', a.summary].some((s) => s.toLowerCase().includes(needle));
}

/** A silence pre-filled from an alert: its identity labels, quoted as `offhook silence add` takes them. */
export function silenceMatchersFor(a: ConsoleAlert): string {
  const quote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const pairs: [string, string][] = [
    ['host', a.host],
    ['rule', a.rule],
    ...Object.entries(a.labels).filter(([k]) => k !== 'flapping'),
  ];
  return pairs.map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}
