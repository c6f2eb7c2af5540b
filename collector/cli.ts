import type { Command } from 'commander';
import type { ConfigKinds } from '../deploy/check-config.ts';
import { basename } from 'node:path';
import {
  ConfigError,
  createLogger,
  createRegistry,
  EXIT_FAILURE,
  EXIT_USAGE,
  readProcessConfig,
} from '../shared/index.ts';
import { type CollectorConfig, CollectorConfigFile } from './config.ts';
import { registerConsoleCommands } from './console/cli.ts';
import { startCollector } from './service.ts';

/** Config schemas `offhook check-config` knows for the collector. */
export const collectorConfigKinds: ConfigKinds = { collector: CollectorConfigFile };

export function registerCollectorCommands(program: Command): void {
  registerConsoleCommands(program);
  program
    .command('collector')
    .description(
      'Run the collector: evaluate rules over agent events, publish alerts, run notifiers, serve the status page',
    )
    .requiredOption('--config <file>', 'collector.yaml')
    .action(async (options: { config: string }) => {
      let config: CollectorConfig;
      let notices: string[];
      try {
        ({ config, notices } = readProcessConfig(options.config, CollectorConfigFile));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT_USAGE;
        return;
      }
      const logger = createLogger('collector');
      for (const notice of notices) {
        logger.warn({ file: options.config, notice }, 'config leaves a setting to its default');
      }
      let collector: Awaited<ReturnType<typeof startCollector>>;
      try {
        collector = await startCollector(config, { logger, registry: createRegistry('collector') });
      } catch (err) {
        // Typically the listen port taken: one line and exit 1 (README, Exit codes), the details in the log.
        logger.error({ err }, 'collector did not start');
        logger.flush();
        process.stderr.write(`${basename(options.config)}: collector did not start: ${(err as Error).message}\n`);
        process.exit(EXIT_FAILURE);
      }
      process.stdout.write(`collector listening on ${collector.url}\n`);
      await new Promise<void>((resolve) => {
        // `on` and a guard: under a terminal's Ctrl-C (or the demo) SIGINT and SIGTERM both arrive; the second must
        // neither start a second stop nor kill the first one halfway.
        let stopping = false;
        const stop = (signal: string): void => {
          if (stopping) return;
          stopping = true;
          logger.info({ signal }, 'stopping');
          void collector.stop().then(resolve, (err: Error) => {
            logger.error({ err }, 'unclean stop');
            resolve();
          });
        };
        process.on('SIGTERM', () => stop('SIGTERM'));
        process.on('SIGINT', () => stop('SIGINT'));
      });
    });
}
