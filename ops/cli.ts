import type { Command } from 'commander';
import { AgentConfigFile } from '../agent/config.ts';
import { CollectorConfigFile } from '../collector/config.ts';
import { GatewayConfigFile } from '../telephony-gateway/config.ts';
import { registerOperatorCommands } from './alerts.ts';
import { registerCheckConfig } from './check-config.ts';
import { registerStatusCommand } from './status.ts';

/**
 * The operator's commands, usable on any host with NATS access: alerts, ack, silence, status, check-config. Only
 * config schemas and NATS clients here, never a role's process code, so the bundle stays small.
 */
export function registerOperatorCli(program: Command): void {
  registerOperatorCommands(program);
  registerStatusCommand(program);
  registerCheckConfig(program, { agent: AgentConfigFile, collector: CollectorConfigFile, gateway: GatewayConfigFile });
}
