import { basename } from 'node:path';
import { ConfigError } from './config.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from './exit.ts';
import { createLogger, type Logger, endLogs } from './logger.ts';
import { OFFHOOK_VERSION } from './version.ts';

/** What a started service hands back: the one way to stop it cleanly. */
export interface RunningService {
  stop(): Promise<void>;
}

export interface ServiceSpec<C> {
  /** The process name in every log line and message: agent, collector, gateway. */
  name: string;
  configFile: string;
  /** Reads and validates the config file; a ConfigError exits 2 before anything starts. */
  loadConfig: (file: string) => { config: C; notices: string[] };
  /**
   * Starts the service. `stopping` aborts at the first signal: a start still waiting (for NATS) may give up with the
   * signal's reason, and the process then exits 0 as after a stop.
   */
  start: (config: C, logger: Logger, stopping: AbortSignal) => Promise<RunningService>;
  /**
   * How long after the first signal the start (if still running) and the stop may take before the process exits 1
   * with the stop unfinished. Keep it below the unit's TimeoutStopSec, so the process says what hung rather than
   * systemd's SIGKILL ending it silently.
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
 *   follows, which must not cut the clean stop short.
 * Never returns: the process ends here.
 */
export async function runService<C>(spec: ServiceSpec<C>): Promise<never> {
  // Installed before anything else, so a signal during the start still means "stop cleanly".
  const signals = watchSignals();
  let loaded: { config: C; notices: string[] };
  try {
    loaded = spec.loadConfig(spec.configFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  const { config, notices } = loaded;
  const logger = createLogger(spec.name);
  for (const notice of notices)
    logger.warn({ file: spec.configFile, notice }, 'config leaves a setting to its default');
  logger.info({ version: OFFHOOK_VERSION, pid: process.pid, config: spec.configFile }, `${spec.name} starting`);

  signals.onRepeat = (signal) => {
    logger.error({ signal }, `second ${signal}: exiting without finishing the stop`);
    void exit(logger, EXIT_FAILURE);
  };
  signals.onOther = (signal) => logger.info({ signal }, 'already stopping');

  const stopping = new AbortController();
  const started = spec.start(config, logger, stopping.signal).then(
    (service) => service,
    async (err: unknown) => {
      if (stopping.signal.aborted && err === stopping.signal.reason) {
        logger.info(`${spec.name} stopped while starting`);
        return { stop: async () => undefined };
      }
      logger.error({ err }, `${spec.name} did not start`);
      const what = spec.describeStartFailure?.(err, config) ?? `${spec.name} did not start`;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${basename(spec.configFile)}: ${what}: ${message}\n`);
      return exit(logger, exitCodeFor(err));
    },
  );
  const signal = await signals.first;
  const since = Date.now();
  stopping.abort(new StopRequested(signal));
  logger.info({ signal, deadlineMs: spec.stopDeadlineMs }, `${spec.name} stopping`);
  let deadline: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    deadline = setTimeout(() => resolve('late'), spec.stopDeadlineMs);
  });
  const stopped = started
    .then((service) => service.stop())
    .then(
      () => 'stopped' as const,
      (err: unknown) => {
        logger.error({ err }, `${spec.name} did not stop cleanly`);
        return 'failed' as const;
      },
    );
  const outcome = await Promise.race([stopped, late]);
  clearTimeout(deadline);
  if (outcome === 'late') {
    logger.error({ deadlineMs: spec.stopDeadlineMs }, `${spec.name} did not stop within its deadline: exiting anyway`);
    return exit(logger, EXIT_FAILURE);
  }
  const code = outcome === 'stopped' ? EXIT_OK : EXIT_FAILURE;
  logger.info({ exitCode: code, stopMs: Date.now() - since }, `${spec.name} exiting`);
  return exit(logger, code);
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
}

function watchSignals(): SignalWatch {
  let first: StopSignal | null = null;
  let resolveFirst: (signal: StopSignal) => void = () => undefined;
  const watch: SignalWatch = {
    first: new Promise((resolve) => (resolveFirst = resolve)),
    // Replaced once the logger exists; a repeat before that (during the synchronous config load) cannot happen.
    onRepeat: () => process.exit(EXIT_FAILURE),
    onOther: () => undefined,
  };
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
