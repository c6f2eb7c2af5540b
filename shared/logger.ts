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
      timestamp: isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/**
 * pino's stdTimeFunctions.isoTime without Date#toISOString: V8 loads ICU's time zone data and code at that method's
 * first call (as for toString, toUTCString and JSON.stringify of a Date), ~0.85 MiB of the node binary's pages the
 * process then holds for good; the getUTC* methods do not (agent/README.md, Footprint). Same text for years 0-9999.
 */
export function isoTimestamp(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);
  const millis = d.getUTCMilliseconds();
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}` +
    `T${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}` +
    `.${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
  );
}

const isoTime = (): string => `,"time":"${isoTimestamp(Date.now())}"`;

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Ends the logger's destination and calls `done` once every line logged so far is out, for a process about to exit.
 * pino's flush(cb) on the async stdout destination (sonic-boom, minLength 0) calls back at once even while a write is
 * in flight; exiting then made pino's exit hook write the later lines synchronously ahead of that one (a loaded box
 * printed "svc stopping" after "svc exiting"), or lose it. sonic-boom's public end() waits for the write in flight and
 * writes what is buffered behind it, in order, then emits 'finish' (fd 1 and 2 are left open). A line logged after
 * that throws, so this is for the exit path only.
 */
export function endLogs(logger: Logger, done: () => void): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { end?: () => void; once?: (event: 'finish' | 'close' | 'error', listener: () => void) => unknown }
    | undefined;
  if (typeof stream?.end !== 'function' || typeof stream.once !== 'function') {
    // A destination that cannot be ended (a plain { write } object) has nothing in flight to wait for.
    logger.flush(() => done());
    return;
  }
  let called = false;
  const finish = (): void => {
    if (!called) done();
    called = true;
  };
  stream.once('finish', finish);
  stream.once('close', finish);
  // A write that fails (stdout closed) never finishes; the process still has to exit, and there is no one to tell.
  stream.once('error', finish);
  try {
    stream.end();
  } catch {
    // Already ended or destroyed: nothing more will be written.
    finish();
  }
}
