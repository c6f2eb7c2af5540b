import { Command } from 'commander';
import { OFFHOOK_VERSION } from './shared/index.ts';
import { registerAgentCommands, agentConfigKinds } from './agent/cli.ts';
import { registerCollectorCommands, collectorConfigKinds } from './collector/cli.ts';
import { registerGatewayCommands, gatewayConfigKinds } from './telephony-gateway/cli.ts';
import { registerDeployCommands } from './deploy/cli.ts';
import { registerCheckConfig } from './deploy/check-config.ts';

// One binary, one subcommand per process or operator task; each folder registers its own.
const program = new Command('offhook')
  .description('Host monitoring over NATS that ends in a real phone call')
  .version(OFFHOOK_VERSION)
  .showHelpAfterError();

registerAgentCommands(program);
registerCollectorCommands(program);
registerGatewayCommands(program);
registerDeployCommands(program);
registerCheckConfig(program, { ...agentConfigKinds, ...collectorConfigKinds, ...gatewayConfigKinds });

await program.parseAsync(process.argv);
