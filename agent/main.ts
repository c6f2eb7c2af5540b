import { basename } from 'node:path';
import {
  ConfigError,
  createLogger,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  readConfigFile,
  readProcessConfig,
} from '../shared/index.ts';
import { Agent } from './agent.ts';
import { AgentConfigFile, type AgentConfig } from './config.ts';
import { NAGIOS_UNKNOWN, runOnce } from './once.ts';
import { StateDirInUseError } from './core/state-lock.ts';

/**
 * `offhook agent --config FILE`: load the config (a bad one exits 2 with every problem listed; 3, Nagios UNKNOWN,
 * under --once),
 * start checks, resource sampling, log rules and the heartbeat, serve /metrics, and on SIGTERM or
 * SIGINT stop cleanly: log positions saved, unsent events spooled.
 */
export async function runAgentProcess(options: {
  config: string;
  metricsListen?: string;
  once?: boolean;
}): Promise<void> {
  let config: AgentConfig;
  let notices: string[];
  try {
    // --once needs no NATS, so its credentials files need not be readable either.
    ({ config, notices } = (options.once ? readConfigFile : readProcessConfig)(options.config, AgentConfigFile));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    // Under --once a monitoring system reads the code as a plugin state: a broken config is UNKNOWN, not CRITICAL.
    process.exit(options.once ? NAGIOS_UNKNOWN : EXIT_USAGE);
  }
  if (options.once) process.exit(await runOnce(config, (line) => process.stdout.write(`${line}\n`)));
  const logger = createLogger('agent');
  for (const notice of notices) logger.warn({ file: options.config, notice }, 'config leaves a setting to its default');
  // Installed before start-up so a SIGTERM during it still means "stop cleanly".
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  let agent: Agent;
  try {
    agent = new Agent(config, { logger, ...(options.metricsListen ? { metricsListen: options.metricsListen } : {}) });
    await agent.start();
  } catch (err) {
    // Typically state_dir not writable or the metrics port taken: say which, do not dump a stack.
    const error = err as NodeJS.ErrnoException;
    const where =
      error.code === 'EADDRINUSE'
        ? `metrics_listen ${options.metricsListen ?? config.metrics_listen}`
        : error.path
          ? `state_dir ${config.state_dir}`
          : err instanceof StateDirInUseError
            ? 'state_dir'
            : 'start-up';
    process.stderr.write(`${basename(options.config)}: ${where}: ${error.message}\n`);
    process.exit(EXIT_FAILURE);
  }
  await stopRequested;
  await agent.stop();
  logger.flush();
  process.exit(EXIT_OK);
}
