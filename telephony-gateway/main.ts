import {
  Gauge,
  readProcessConfig,
  runService,
  type Logger,
  type Registry,
  type RunningService,
} from '../shared/index.ts';
import { GatewayConfigFile, type GatewayConfig } from './config.ts';
import { openDriver } from './drivers/open.ts';
import { startGateway } from './gateway.ts';

/**
 * libuv's pool size as libuv reads UV_THREADPOOL_SIZE (the launcher and the unit set it for the gateway): 4 unless set,
 * 1-1024.
 */
export function libuvPoolSize(value = process.env.UV_THREADPOOL_SIZE): number {
  if (value === undefined || value === '') return 4;
  return Math.min(1024, Math.max(1, Number.parseInt(value, 10) || 0));
}

function reportPoolSize(registry: Registry, logger: Logger): void {
  const size = libuvPoolSize();
  new Gauge({
    name: 'offhook_gateway_libuv_threadpool_size',
    help: 'libuv thread pool size; each waiting line operation holds one thread',
    registers: [registry],
  }).set(size);
  // Fewer than a handful of threads lets a few slow line operations stall file, DNS and crypto work.
  if (size < 8)
    logger.warn(
      { uvThreadpoolSize: size },
      'small libuv thread pool: set UV_THREADPOOL_SIZE=16 (the offhook launcher and the unit do)',
    );
  else logger.info({ uvThreadpoolSize: size }, 'libuv thread pool');
}

/**
 * Below offhook-gateway.service's TimeoutStopSec (60 s): a stop hangs up a call in progress, stores the budget and
 * stops baresip (SIGKILL after its own grace).
 */
const STOP_DEADLINE_MS = 45_000;

/** `offhook gateway`: load config, open the line, connect, start the loops, serve metrics, stop cleanly on SIGTERM. */
export async function runGatewayProcess(
  configFile: string,
  options: { metricsListen?: string; webhookListen?: string },
): Promise<void> {
  await runService<GatewayConfig>({
    name: 'gateway',
    configFile,
    loadConfig: (file) => readProcessConfig(file, GatewayConfigFile),
    stopDeadlineMs: STOP_DEADLINE_MS,
    start: (config, logger, stopping, registry) => startGatewayProcess(config, logger, registry, options, stopping),
  });
}

async function startGatewayProcess(
  config: GatewayConfig,
  logger: Logger,
  registry: Registry,
  options: { metricsListen?: string; webhookListen?: string },
  stopping: AbortSignal,
): Promise<RunningService> {
  reportPoolSize(registry, logger);
  const driver = await openDriver(config.line, { stateDir: config.state_dir, logger, registry });
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway({
      config,
      driver,
      logger,
      registry,
      stopping,
      metricsListen: options.metricsListen ?? config.metrics_listen,
      ...(options.webhookListen ? { webhookListen: options.webhookListen } : {}),
    });
  } catch (err) {
    // The line is ours until the gateway owns it: a start that fails (port taken) must not leave baresip running.
    await driver.close();
    throw err;
  }
  return {
    async stop() {
      await gateway.stop();
      await driver.close();
    },
    // A stop hangs up the call on the line (line/line-owner.ts): a reload must not cut off someone being told.
    restartRefusal: () => (gateway.worker.busy ? 'a call is on the line and a restart would hang it up' : null),
  };
}
