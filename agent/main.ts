import { ConfigError, readConfigFile, readProcessConfig, runService } from '../shared/index.ts';
import { Agent } from './agent.ts';
import { AgentConfigFile, type AgentConfig } from './config.ts';
import { NAGIOS_UNKNOWN, runOnce } from './once.ts';
import { StateDirInUseError } from './core/state-lock.ts';

/** Below offhook-agent.service's TimeoutStopSec (30 s): saving log positions and spooling take well under a second. */
const STOP_DEADLINE_MS = 20_000;

/**
 * `offhook agent --config FILE`: load the config (a bad one exits 2 with every problem listed; 3, Nagios UNKNOWN,
 * under --once), start checks, resource sampling, log rules and the heartbeat, serve /metrics, and on SIGTERM or
 * SIGINT stop cleanly: log positions saved, unsent events spooled (shared/run-service.ts).
 */
export async function runAgentProcess(options: {
  config: string;
  metricsListen?: string;
  once?: boolean;
}): Promise<void> {
  if (options.once) {
    let config: AgentConfig;
    try {
      // --once needs no NATS, so its credentials files need not be readable either.
      ({ config } = readConfigFile(options.config, AgentConfigFile));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`${err.message}\n`);
      // A monitoring system reads the code as a plugin state: a broken config is UNKNOWN, not CRITICAL.
      process.exit(NAGIOS_UNKNOWN);
    }
    process.exit(await runOnce(config, (line) => process.stdout.write(`${line}\n`)));
  }
  await runService<AgentConfig>({
    name: 'agent',
    configFile: options.config,
    loadConfig: (file) => readProcessConfig(file, AgentConfigFile),
    stopDeadlineMs: STOP_DEADLINE_MS,
    start: async (config, logger, _stopping, registry) => {
      const agent = new Agent(config, {
        logger,
        registry,
        ...(options.metricsListen ? { metricsListen: options.metricsListen } : {}),
      });
      await agent.start();
      return agent;
    },
    // Typically state_dir not writable or the metrics port taken: say which, do not dump a stack.
    describeStartFailure: (err, config) => {
      const error = err as NodeJS.ErrnoException;
      if (error.code === 'EADDRINUSE') return `metrics_listen ${options.metricsListen ?? config.metrics_listen}`;
      if (error.path) return `state_dir ${config.state_dir}`;
      return err instanceof StateDirInUseError ? 'state_dir' : 'start-up';
    },
  });
}
