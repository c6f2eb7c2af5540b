// The collector's public face: config, the process entry and the engine (for tests and tools).
export { CollectorConfig } from './config.ts';
export { startCollector, type CollectorDeps, type RunningCollector } from './service.ts';
export { AlertEngine, type EngineOutput } from './alerts/index.ts';
export { buildRules } from './alerts/index.ts';
export { AlertRecord } from './alerts/index.ts';
export { Silence } from './silences/index.ts';
export { RULE_PLUGINS, RuleConfig } from './rules/index.ts';
export { collectorConfigKinds, registerCollectorCommands } from './cli.ts';
