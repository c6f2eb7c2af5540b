import { z } from 'zod';
import { checkRule } from './check.ts';
import { hostDownRule } from './host-down.ts';
import { logRule } from './log.ts';
import { thresholdRule } from './threshold.ts';
import type { RuleInstance, RulePlugin } from './types.ts';

export type { AgentEvent, RuleInstance, RulePlugin, Verdict, AlertRuleKind } from './types.ts';
export { FlappingConfig } from './types.ts';

/** Rule kinds: adding one is a new file in this folder and one line here. */
export const RULE_PLUGINS = [thresholdRule, checkRule, logRule, hostDownRule] as const satisfies readonly RulePlugin[];

export const RuleConfig = z.discriminatedUnion(
  'kind',
  [thresholdRule.configSchema, checkRule.configSchema, logRule.configSchema, hostDownRule.configSchema],
  {
    error: `expected kind to be one of ${RULE_PLUGINS.map((p) => JSON.stringify(p.kind)).join(', ')}`,
  },
);
export type RuleConfig = z.infer<typeof RuleConfig>;

export function createRule(config: RuleConfig): RuleInstance {
  const plugin = RULE_PLUGINS.find((p) => p.kind === config.kind) as RulePlugin | undefined;
  if (!plugin) throw new Error(`unknown rule kind ${config.kind}`);
  return plugin.create(config);
}
