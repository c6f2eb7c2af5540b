import type { Command } from 'commander';
import { readProcessConfig, runService } from '../shared/index.ts';
import type { ConfigKinds } from '../shared/index.ts';
import { type CollectorConfig, CollectorConfigFile } from './config.ts';
import { registerConsoleCommands } from './console/cli.ts';
import { startCollector } from './service.ts';

/** Config schemas `offhook check-config` knows for the collector. */
export const collectorConfigKinds: ConfigKinds = { collector: CollectorConfigFile };

/**
 * Below offhook-collector.service's TimeoutStopSec (30 s): a stop waits for the in-flight notifications and the last
 * checkpoint.
 */
const STOP_DEADLINE_MS = 20_000;

export function registerCollectorCommands(program: Command): void {
  registerConsoleCommands(program);
  program
    .command('collector')
    .description(
      'Run the collector: evaluate rules over agent events, publish alerts, run notifiers, serve the status page',
    )
    .requiredOption('--config <file>', 'collector.yaml')
    .action((options: { config: string }) =>
      runService<CollectorConfig>({
        name: 'collector',
        configFile: options.config,
        loadConfig: (file) => readProcessConfig(file, CollectorConfigFile),
        stopDeadlineMs: STOP_DEADLINE_MS,
        start: async (config, logger, stopping, registry) => {
          const collector = await startCollector(config, { logger, registry, stopping });
          process.stdout.write(`collector listening on ${collector.url}\n`);
          return collector;
        },
      }),
    );
}
