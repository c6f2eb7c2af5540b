import type { Command } from 'commander';
import { EXIT_USAGE, ListenAddress } from '../shared/index.ts';
import type { ConfigKinds } from '../shared/index.ts';
import { AgentConfigFile } from './config.ts';
import { runAgentProcess } from './main.ts';

/** Config schemas `offhook check-config` knows for the agent. */
export const agentConfigKinds: ConfigKinds = { agent: AgentConfigFile };

export function registerAgentCommands(program: Command): void {
  program
    .command('agent')
    .description('Run the host agent: checks, resource sampling, log rules, heartbeat; publishes to NATS JetStream')
    .requiredOption('--config <file>', 'agent YAML config (see deploy/examples/agent.yaml)')
    .option('--metrics-listen <host:port>', 'serve /metrics here instead of metrics_listen from the config')
    .option(
      '--once',
      'run every check once, sample resources, print the results and exit with the worst status (Nagios plugin ' +
        'codes: 0 ok, 1 warning, 2 critical, 3 unknown, also for a config that does not load; critical > warning > ' +
        'unknown > ok); no NATS needed',
    )
    .action(async (options: { config: string; metricsListen?: string; once?: boolean }) => {
      if (options.metricsListen !== undefined && !ListenAddress.safeParse(options.metricsListen).success) {
        process.stderr.write(
          `--metrics-listen: expected "host:port", e.g. "127.0.0.1:9464", ` +
            `got ${JSON.stringify(options.metricsListen)}\n`,
        );
        process.exit(EXIT_USAGE);
      }
      await runAgentProcess(options);
    });
}
