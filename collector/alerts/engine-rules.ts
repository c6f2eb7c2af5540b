import { HostSelector } from '../silences/index.ts';
import { createRule, type RuleConfig, type RuleInstance } from '../rules/index.ts';
import type { FlappingConfig } from '../rules/types.ts';

/** A rule as the engine runs it: the judging instance plus selection, repeat and flap settings. */
export interface EngineRule {
  instance: RuleInstance;
  hosts: HostSelector;
  repeatMs: number;
  flapping: FlappingConfig;
  /** Highest EVENTS sequence this rule's state has seen (checkpoint shards may be newer than the whole). */
  coveredSeq: number;
}

export interface RuleDefaults {
  repeat_interval: number;
  flapping: FlappingConfig;
}

export function buildRules(configs: readonly RuleConfig[], defaults: RuleDefaults): EngineRule[] {
  return configs.map((config) => ({
    instance: createRule(config),
    hosts: new HostSelector(config.hosts, config.exclude_hosts),
    repeatMs: config.repeat_interval ?? defaults.repeat_interval,
    flapping: config.flapping ?? defaults.flapping,
    coveredSeq: 0,
  }));
}
