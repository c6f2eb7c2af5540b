import * as z from 'zod';
import { EpochMs, safeRegexProblem } from '../../shared/index.ts';
import { formatMatcher, matchesAll, type Matcher } from './matchers.ts';

/** Silences are read back from the KV bucket: a regex the linear-time engine refuses is refused here, not run. */
export const MatcherShape = z
  .object({
    name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/),
    op: z.enum(['=', '!=', '=~', '!~']),
    value: z.string().max(1024),
  })
  .superRefine((m, ctx) => {
    const problem = m.op === '=~' || m.op === '!~' ? safeRegexProblem(`^(?:${m.value})$`) : null;
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });

/** A silence (Alertmanager shape): matchers over host, rule, severity and labels, a time range, who and why. */
export const Silence = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  matchers: z.array(MatcherShape).min(1).max(50),
  startsAt: EpochMs,
  endsAt: EpochMs,
  createdBy: z.string().min(1).max(200),
  comment: z.string().max(1000),
  createdAt: EpochMs,
});
export type Silence = z.infer<typeof Silence>;

export function silenceActive(silence: Silence, now: number): boolean {
  return silence.startsAt <= now && now < silence.endsAt;
}

/** The fields a silence can match: labels plus host, rule (alias alertname, as in Alertmanager), severity and kind. */
export function silenceTarget(alert: {
  host: string;
  rule: string;
  severity: string;
  ruleKind: string;
  labels: Record<string, string>;
}): Record<string, string> {
  return {
    ...alert.labels,
    host: alert.host,
    rule: alert.rule,
    alertname: alert.rule,
    severity: alert.severity,
    kind: alert.ruleKind,
  };
}

export function silenceMatches(silence: Silence, target: Record<string, string>, now: number): boolean {
  return silenceActive(silence, now) && matchesAll(silence.matchers as Matcher[], target);
}

export function describeMatchers(silence: Silence): string {
  return silence.matchers.map((m) => formatMatcher(m as Matcher)).join(' ');
}
