// The collector's public face: config, the process entry and the engine (for tests and tools).
export { CollectorConfig } from './config.ts';
export { startCollector, type CollectorDeps, type RunningCollector } from './service.ts';
export { AlertEngine, type EngineOutput } from './engine.ts';
export { buildRules } from './engine-rules.ts';
export { AlertRecord } from './alert-record.ts';
export { Silence } from './silence.ts';
export { RULE_PLUGINS, RuleConfig } from './rules/index.ts';
export { collectorConfigKinds, registerCollectorCommands } from './cli.ts';
