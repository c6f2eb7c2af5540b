import { basename } from 'node:path';
import { ConfigError } from './config.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit.ts';
import { createLogger, type Logger, endLogs } from './logger.ts';
import type { Registry } from './metrics.ts';
import { ProcessMetrics, SerialRuns } from './reload.ts';
import { reloadService } from './reload-service.ts';
import { OFFHOOK_VERSION } from './version.ts';

/** What a started service hands back: the one way to stop it cleanly. */
export interface RunningService {
  stop(): Promise<void>;
  /**
   * Why an in-process restart (a SIGHUP with a changed config) must not happen now, or null when it may: the reload
   * is refused, logged with this reason, and the old config runs on. The gateway says so while a call is on the line.
   */
  restartRefusal?(): string | null;
}

export interface ServiceSpec<C> {
  /** The process name in every log line and message: agent, collector, gateway. */
  name: string;
  configFile: string;
  /**
   * Reads and validates the config file, at start and on each SIGHUP; a ConfigError exits 2 before anything starts,
   * and on SIGHUP keeps the running config. `text` is what was read: the same text again is no change.
   */
  loadConfig: (file: string) => { config: C; notices: string[]; text: string };
  /**
   * Starts the service, at start and again after a reload's stop. `stopping` aborts at the first signal: a start
   * still waiting (for NATS) may give up with the signal's reason, and the process then exits 0 as after a stop.
   * `registry` is this instance's own, with the process-lifetime metrics (Node's, the reload metrics) already in it.
   */
  start: (config: C, logger: Logger, stopping: AbortSignal, registry: Registry) => Promise<RunningService>;
  /**
   * How long after the first signal the start (if still running) and the stop may take before the process exits 1
   * with the stop unfinished. Keep it below the unit's TimeoutStopSec, so the process says what hung rather than
   * systemd's SIGKILL ending it silently. A reload's stop has the same time.
   */
  stopDeadlineMs: number;
  /** Names what failed to start (e.g. "metrics_listen 127.0.0.1:9464") in the one stderr line. */
  describeStartFailure?: (err: unknown, config: C) => string;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof SIGNALS)[number];

/**
 * The one lifecycle of agent, collector and gateway (README, Exit codes and Stopping):
 * - config: a file that does not load prints its problems and exits 2, before a logger or anything else exists;
 * - start: a failure (port taken, state dir locked, NATS files unreadable) prints one line naming the file and what
 *   failed, logs the error and exits 1 (2 when the failure is a config or usage error);
 * - stop: SIGTERM or SIGINT, also during the start, stops the service and exits 0; a stop that fails exits 1, and one
 *   still running `stopDeadlineMs` after the signal exits 1 with the work unfinished;
 * - a second signal of the same kind (Ctrl-C twice, `kill` twice) exits 1 at once. A different one is the same request
 *   again and only logged: a terminal's Ctrl-C reaches every process of the demo and then its supervisor's SIGTERM
 *   follows, which must not cut the clean stop short;
 * - SIGHUP: reload (shared/reload-service.ts): the file loaded again; invalid or unchanged, nothing else happens;
 *   changed, the service is stopped as on SIGTERM and started again on the new config, in this process.
 * Never returns: the process ends here.
 */
export async function runService<C>(spec: ServiceSpec<C>): Promise<never> {
  // Installed before anything else, so a signal during the start still means "stop cleanly" (or "reload").
  const signals = watchSignals();
  let loaded: { config: C; notices: string[]; text: string };
  try {
    loaded = spec.loadConfig(spec.configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const logger = createLogger(spec.name);
  for (const notice of loaded.notices)
    logger.warn({ file: spec.configFile, notice }, 'config leaves a setting to its default');
  logger.info({ version: OFFHOOK_VERSION, pid: process.pid, config: spec.configFile }, `${spec.name} starting`);

  signals.onRepeat = (signal) => {
    logger.error({ signal }, `second ${signal}: exiting without finishing the stop`);
    void exit(logger, EXIT_FAILURE);
  };
  signals.onOther = (signal) => logger.info({ signal }, 'already stopping');

  const stopping = new AbortController();
  const metrics = new ProcessMetrics(spec.name);
  const start = (config: C, reload: boolean): Promise<RunningService> =>
    spec.start(config, logger, stopping.signal, metrics.instanceRegistry()).then(
      (service) => service,
      async (err: unknown) => {
        if (stopping.signal.aborted && err === stopping.signal.reason) {
          logger.info(`${spec.name} stopped while starting`);
          return { stop: async () => undefined };
        }
        const what = spec.describeStartFailure?.(err, config) ?? `${spec.name} did not start`;
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(`${basename(spec.configFile)}: ${what}: ${message}\n`);
        if (!reload) {
          logger.error({ err }, `${spec.name} did not start`);
          return exit(logger, exitCodeFor(err));
        }
        metrics.record('failed');
        logger.error(
          { err, file: spec.configFile },
          `${spec.name} did not start again on the reloaded config: exiting 1 so that systemd restarts it`,
        );
        return exit(logger, EXIT_FAILURE);
      },
    );
  const current = { loaded, service: start(loaded.config, false) };
  const reloads = new SerialRuns(
    () =>
      reloadService({
        spec,
        logger,
        metrics,
        current,
        stopping: stopping.signal,
        stopService: (service) => stopWithin(spec, logger, service),
        start: (config) => start(config, true),
        exit: (code) => exit(logger, code),
      }),
    (err) => logger.error({ err }, 'config reload failed'),
  );
  signals.onHangUp = () => {
    const request = reloads.request();
    if (request === 'queued') logger.info('SIGHUP during a reload: reloading once more after it');
    if (request === 'cancelled') logger.info('SIGHUP while stopping: no reload');
  };

  const signal = await signals.first;
  const since = Date.now();
  stopping.abort(new StopRequested(signal));
  logger.info({ signal, deadlineMs: spec.stopDeadlineMs }, `${spec.name} stopping`);
  // A reload under way ends first (its start gives up at the abort); the service it left is the one stopped.
  const outcome = await stopWithin(
    spec,
    logger,
    reloads.cancel().then(() => current.service),
  );
  if (outcome === 'late') return exit(logger, EXIT_FAILURE);
  const code = outcome === 'stopped' ? EXIT_OK : EXIT_FAILURE;
  logger.info({ exitCode: code, stopMs: Date.now() - since }, `${spec.name} exiting`);
  return exit(logger, code);
}

/** Stops the service within the spec's deadline: 'late' (logged) when it did not, 'failed' (logged) when it threw. */
function stopWithin<C>(
  spec: ServiceSpec<C>,
  logger: Logger,
  service: Promise<RunningService>,
): Promise<'stopped' | 'failed' | 'late'> {
  let deadline: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    deadline = setTimeout(() => resolve('late'), spec.stopDeadlineMs);
  });
  const stopped = service
    .then((running) => running.stop())
    .then(
      () => 'stopped' as const,
      (err: unknown) => {
        logger.error({ err }, `${spec.name} did not stop cleanly`);
        return 'failed' as const;
      },
    );
  return Promise.race([stopped, late]).then((outcome) => {
    clearTimeout(deadline);
    if (outcome === 'late')
      logger.error(
        { deadlineMs: spec.stopDeadlineMs },
        `${spec.name} did not stop within its deadline: exiting anyway`,
      );
    return outcome;
  });
}

/** Why a start was given up: the process was asked to stop. */
class StopRequested extends Error {
  override name = 'AbortError';
  constructor(signal: StopSignal) {
    super(`${signal} during the start`);
  }
}

interface SignalWatch {
  first: Promise<StopSignal>;
  onRepeat: (signal: StopSignal) => void;
  onOther: (signal: StopSignal) => void;
  onHangUp: () => void;
}

function watchSignals(): SignalWatch {
  let first: StopSignal | null = null;
  let resolveFirst: (signal: StopSignal) => void = () => undefined;
  const watch: SignalWatch = {
    first: new Promise((resolve) => (resolveFirst = resolve)),
    // Replaced once the logger exists; a repeat before that (during the synchronous config load) cannot happen.
    onRepeat: () => process.exit(EXIT_FAILURE),
    onOther: () => undefined,
    // Replaced before the first await: until then no signal handler can run.
    onHangUp: () => undefined,
  };
  // Node's default for SIGHUP ends the process; here it asks for a reload instead.
  process.on('SIGHUP', () => watch.onHangUp());
  for (const name of SIGNALS) {
    // `on`, not `once`: after the first signal Node's default handler (immediate death) must not come back.
    process.on(name, () => {
      if (first === null) {
        first = name;
        resolveFirst(name);
      } else if (first === name) watch.onRepeat(name);
      else watch.onOther(name);
    });
  }
  return watch;
}

/** Writes out what the logger still buffers, then ends the process with `code`. */
function exit(logger: Logger, code: number): Promise<never> {
  return new Promise<never>(() => {
    endLogs(logger, () => process.exit(code));
  });
}
