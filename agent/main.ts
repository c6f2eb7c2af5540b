import { ConfigError, createLogger, loadConfigFile } from '../shared/index.ts';
import { Agent } from './agent.ts';
import { AgentConfig } from './config.ts';
import { runOnce } from './once.ts';

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
  const agent = new Agent(config, { logger, ...(options.metricsListen ? { metricsListen: options.metricsListen } : {}) });
  await agent.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await agent.stop();
  logger.flush();
  process.exit(0);
}
