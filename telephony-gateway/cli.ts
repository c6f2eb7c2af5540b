import type { Command } from 'commander';
import type { ConfigKinds } from '../deploy/check-config.ts';

/** Config schemas `offhook check-config` knows for the gateway (filled in as the gateway lands). */
export const gatewayConfigKinds: ConfigKinds = {};

export function registerGatewayCommands(_program: Command): void {}
