// The public face of agent/: what the CLI, tests and benchmarks use.
export { Agent, type AgentOptions } from './agent.ts';
export { AgentConfig, type LogFileConfig } from './config.ts';
export { runAgentProcess } from './main.ts';
export { checkPlugins, pluginFor, checkKinds, CheckConfig } from './checks/index.ts';
export { ResourceSampler, counterRate } from './resources/sampler.ts';
export { liveProc, type ProcSource, type FsStats } from './resources/proc-reader.ts';
export { FileFollower, type FilePosition, type LogLine } from './logs/follower.ts';
export { DiskSpool } from './core/spool.ts';
