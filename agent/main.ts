import { basename } from 'node:path';
import { ConfigError, createLogger, loadConfigFile } from '../shared/index.ts';
import { Agent } from './agent.ts';
import { AgentConfig } from './config.ts';
import { runOnce } from './once.ts';
import { StateDirInUseError } from './core/state-lock.ts';

/**
 * `offhook agent --config FILE`: load the config (a bad one exits 1 with every problem listed),
 * start checks, resource sampling, log rules and the heartbeat, serve /metrics, and on SIGTERM or
 * SIGINT stop cleanly: log positions saved, unsent events spooled.
 */
export async function runAgentProcess(options: { config: string; metricsListen?: string; once?: boolean }): Promise<void> {
  let config: AgentConfig;
  try {
    config = loadConfigFile(options.config, AgentConfig);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  if (options.once) process.exit(await runOnce(config, (line) => process.stdout.write(`${line}\n`)));
  const logger = createLogger('agent');
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
    const where = error.code === 'EADDRINUSE' ? `metrics_listen ${options.metricsListen ?? config.metrics_listen}` : error.path ? `state_dir ${config.state_dir}` : err instanceof StateDirInUseError ? 'state_dir' : 'start-up';
    process.stderr.write(`${basename(options.config)}: ${where}: ${error.message}\n`);
    process.exit(1);
  }
  await stopRequested;
  await agent.stop();
  logger.flush();
  process.exit(0);
}
