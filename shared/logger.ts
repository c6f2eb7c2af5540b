import { hostname } from 'node:os';
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/**
 * One structured logger per process. Child loggers carry `host`, `rule` and `fingerprint`
 * so an operator can grep one alert's whole story across processes.
 */
export function createLogger(
  processName: string,
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  const level = options.level ?? process.env.OFFHOOK_LOG_LEVEL ?? 'info';
  return pino(
    {
      level,
      base: { process: processName, node: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
