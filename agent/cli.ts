import type { Command } from 'commander';
import type { ConfigKinds } from '../deploy/check-config.ts';

/** Config schemas `offhook check-config` knows for the agent (filled in as the agent lands). */
export const agentConfigKinds: ConfigKinds = {};

export function registerAgentCommands(_program: Command): void {}
