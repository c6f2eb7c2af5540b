import { ConfigError } from './config.ts';
import { EXIT_FAILURE } from './exit.ts';
import type { Logger } from './logger.ts';
import type { ProcessMetrics } from './reload.ts';
import type { RunningService, ServiceSpec } from './run-service.ts';

export interface ReloadParts<C> {
  spec: ServiceSpec<C>;
  logger: Logger;
  metrics: ProcessMetrics;
  /** The config in effect and its service; replaced by an applied reload. */
  current: { loaded: { config: C; text: string }; service: Promise<RunningService> };
  /** Aborted at SIGTERM/SIGINT: a reload then starts nothing more. */
  stopping: AbortSignal;
  /** Stops a service as SIGTERM does, within the spec's deadline. */
  stopService: (service: Promise<RunningService>) => Promise<'stopped' | 'failed' | 'late'>;
  /** Starts a service on the new config; a failure there ends the process (run-service.ts). */
  start: (config: C) => Promise<RunningService>;
  exit: (code: number) => Promise<never>;
}

/**
 * One SIGHUP, as Prometheus does it: the file is read and validated by the loader the start and check-config use.
 * Invalid: logged with the loader's problems (file, field, fix), the old config runs on. The same text: nothing to
 * do. Changed: the service is stopped exactly as on SIGTERM and started again on the new config in this process; a
 * stop or start that fails ends the process with 1, and systemd starts it again.
 */
export async function reloadService<C>(parts: ReloadParts<C>): Promise<void> {
  const { spec, logger, metrics, current } = parts;
  const file = spec.configFile;
  // A SIGHUP during the start is applied once the start is done, against the config it started with.
  const running = await current.service;
  if (parts.stopping.aborted) return;
  logger.info({ file }, 'SIGHUP: reloading the config');
  let next: ReturnType<ServiceSpec<C>['loadConfig']>;
  try {
    next = spec.loadConfig(file);
  } catch (err) {
    metrics.record('invalid');
    const problems = err instanceof ConfigError ? err.problems : [err instanceof Error ? err.message : String(err)];
    logger.error(
      { file, problems, ...(err instanceof ConfigError ? {} : { err }) },
      `config reload failed: ${file} is invalid (${problems.join('; ')}); still running on the previous config`,
    );
    return;
  }
  if (next.text === current.loaded.text) {
    metrics.record('unchanged');
    logger.info({ file }, 'config unchanged: nothing to reload');
    return;
  }
  const refusal = running.restartRefusal?.() ?? null;
  if (refusal !== null) {
    metrics.record('refused');
    logger.warn(
      { file, reason: refusal },
      `config reload refused: ${refusal}; still running on the previous config, send SIGHUP again later`,
    );
    return;
  }
  for (const notice of next.notices) logger.warn({ file, notice }, 'config leaves a setting to its default');
  logger.info({ file }, `config changed: restarting the ${spec.name} in-process on it`);
  const stopped = await parts.stopService(current.service);
  if (stopped !== 'stopped') {
    metrics.record('failed');
    logger.error({ file }, `${spec.name} did not stop for the reload: exiting 1 so that systemd restarts it`);
    await parts.exit(EXIT_FAILURE);
  }
  if (parts.stopping.aborted) {
    // SIGTERM during the reload's stop: the stop it asked for is done.
    current.service = Promise.resolve({ stop: async () => undefined });
    return;
  }
  current.loaded = next;
  current.service = parts.start(next.config);
  await current.service;
  if (parts.stopping.aborted) return;
  metrics.record('applied');
  logger.info({ file }, `config reloaded: the ${spec.name} runs on the new config`);
}
