import type * as z from 'zod';
import { configUnion } from '../../shared/config-union.ts';
import { checkRule } from './check.ts';
import { hostDownRule } from './host-down.ts';
import { logRule } from './log.ts';
import { thresholdRule } from './threshold.ts';
import type { RuleInstance, RulePlugin } from './types.ts';

export type { AgentEvent, RuleInstance, RulePlugin, Verdict } from './types.ts';
export { ENGINE_KINDS, type EngineKind, FlappingConfig } from './types.ts';

/** Rule kinds: adding one is a new file in this folder, its import and its entry here. */
export const RULE_PLUGINS = [thresholdRule, checkRule, logRule, hostDownRule] as const satisfies readonly RulePlugin[];

/** `rules:` entries, each validated by the schema of the plugin its `kind:` names (derived from RULE_PLUGINS). */
export const RuleConfig = configUnion(
  RULE_PLUGINS,
  `expected kind to be one of ${RULE_PLUGINS.map((p) => JSON.stringify(p.kind)).join(', ')}`,
);
export type RuleConfig = z.infer<typeof RuleConfig>;
/** The kinds rules raise: the `kind` literals of the registered schemas. */
export type AlertRuleKind = RuleConfig['kind'];

export function createRule(config: RuleConfig): RuleInstance {
  const plugin = RULE_PLUGINS.find((p) => p.kind === config.kind) as RulePlugin | undefined;
  if (!plugin) throw new Error(`unknown rule kind ${config.kind}`);
  return plugin.create(config);
}
