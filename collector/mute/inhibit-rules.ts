import * as z from 'zod';
import { type Matcher, matchesAll, MatcherText } from '../silences/matchers.ts';

const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a label name like host or alertname');
const LabelMap = z.record(LabelName, z.string());

/**
 * collector.yaml `inhibit_rules:`, Alertmanager 0.25's fields: while a firing alert matches `source_matchers`,
 * every alert matching `target_matchers` with the same value of each `equal` label (missing = empty) is held back.
 * The deprecated `source_match`/`target_match` (equality) and `*_match_re` (regex) maps are read as matchers;
 * check-config names their replacement (inhibitRuleNotices).
 */
export const InhibitRuleConfig = z
  .object({
    source_matchers: z.array(MatcherText).default([]),
    target_matchers: z.array(MatcherText).default([]),
    equal: z.array(LabelName).default([]),
    source_match: LabelMap.optional(),
    target_match: LabelMap.optional(),
    source_match_re: LabelMap.optional(),
    target_match_re: LabelMap.optional(),
  })
  .strict();
export type InhibitRuleConfig = z.infer<typeof InhibitRuleConfig>;

/** One rule, its deprecated maps folded into matchers. */
export interface InhibitRule {
  source: Matcher[];
  target: Matcher[];
  equal: string[];
}

function fromMap(map: Record<string, string> | undefined, op: '=' | '=~'): Matcher[] {
  return Object.entries(map ?? {}).map(([name, value]) => ({ name, op, value }));
}

export function compileInhibitRules(configs: readonly InhibitRuleConfig[]): InhibitRule[] {
  return configs.map((c) => ({
    source: [...c.source_matchers, ...fromMap(c.source_match, '='), ...fromMap(c.source_match_re, '=~')],
    target: [...c.target_matchers, ...fromMap(c.target_match, '='), ...fromMap(c.target_match_re, '=~')],
    equal: c.equal,
  }));
}

type Labels = Readonly<Record<string, string | undefined>>;

/**
 * Alertmanager's Inhibitor.Mutes: the first rule whose target side matches `target` and that has a firing source
 * with equal `equal` labels. When the target matches the rule's source side too, sources that also match the
 * target side are skipped (Alertmanager's excludeTwoSidedMatch), so such alerts never hold each other back.
 * `firing` must hold only firing alerts (a resolved source stops inhibiting). Returns the rule's index or -1.
 */
export function inhibitingRule(rules: readonly InhibitRule[], target: Labels, firing: Iterable<Labels>): number {
  const sources = [...firing];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i]!;
    if (!matchesAll(rule.target, target)) continue;
    const twoSided = matchesAll(rule.source, target);
    const found = sources.some(
      (s) =>
        matchesAll(rule.source, s) &&
        rule.equal.every((name) => (s[name] ?? '') === (target[name] ?? '')) &&
        !(twoSided && matchesAll(rule.target, s)),
    );
    if (found) return i;
  }
  return -1;
}

const REPLACEMENT: Record<string, string> = {
  source_match: 'source_matchers (name="value")',
  target_match: 'target_matchers (name="value")',
  source_match_re: 'source_matchers (name=~"regex")',
  target_match_re: 'target_matchers (name=~"regex")',
};

/** check-config notices for the deprecated forms, naming the field and its replacement. */
export function inhibitRuleNotices(input: Record<string, unknown>): string[] {
  const rules = input.inhibit_rules;
  if (!Array.isArray(rules)) return [];
  const notices: string[] = [];
  rules.forEach((rule, i) => {
    if (rule === null || typeof rule !== 'object') return;
    for (const field of Object.keys(REPLACEMENT))
      if (field in rule)
        notices.push(`inhibit_rules[${i}].${field} is deprecated (as in Alertmanager): use ${REPLACEMENT[field]}`);
  });
  return notices;
}
