import { appendFile } from 'node:fs/promises';
import { openLine } from '../native/index.ts';
import type { FarEndScript, InboundScript, Line, SimLine } from '../native/line.ts';
import { join } from 'node:path';
import {
  createRegistry,
  Gauge,
  readProcessConfig,
  runService,
  type Logger,
  type Registry,
  type RunningService,
} from '../shared/index.ts';
import type { LineDriver } from './drivers/driver.ts';
import { openSipDriver } from './drivers/sip/index.ts';
import { GatewayConfigFile, type GatewayConfig } from './config.ts';
import { startGateway } from './gateway.ts';
import { pinMasker } from './inbound/transcript-mask.ts';

/** Opens the line the config names: the Voicetronix card, or the simulated line with its far-end scripts. */
export async function openConfiguredLine(config: GatewayConfig): Promise<Line> {
  const line = config.line;
  if (line.backend === 'vpb') {
    return openLine({
      backend: 'vpb',
      vpb: {
        board: line.vpb.board,
        channel: line.vpb.channel,
        ...(line.vpb.library_path ? { libraryPath: line.vpb.library_path } : {}),
      },
    });
  }
  const sim = await openLine({
    backend: 'sim',
    sim: {
      speed: line.sim.speed,
      noDialTone: line.sim.no_dial_tone,
      ...(line.sim.dial_tone_delay !== undefined ? { dialToneDelayMs: line.sim.dial_tone_delay } : {}),
      ...(line.sim.ring_period !== undefined ? { ringPeriodMs: line.sim.ring_period } : {}),
    },
  });
  for (const script of line.sim.far_end) sim.script(script as unknown as FarEndScript);
  return sim;
}

/** Appends new transcript entries to a JSON-lines file, so a test or the demo can follow a gateway process's line. */
function followTranscript(line: SimLine, file: string, logger: Logger): () => Promise<void> {
  let written = 0;
  // PINs never reach a file, even a test's.
  const mask = pinMasker();
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> =>
    (writing = writing.then(async () => {
      const entries = line.transcript();
      if (entries.length <= written) return;
      const fresh = entries.slice(written);
      written = entries.length;
      await appendFile(file, `${fresh.map((e) => JSON.stringify(mask(e))).join('\n')}\n`).catch((err: Error) =>
        logger.warn({ err, file }, 'cannot write transcript'),
      );
    }));
  const timer = setInterval(() => void flush(), 20);
  return async () => {
    clearInterval(timer);
    await flush();
  };
}

/** Rings the sim line with each scripted caller in turn: the first at once, each next one after an on hook. */
function ringInSequence(line: SimLine, scripts: InboundScript[]): () => void {
  if (scripts.length === 0) return () => undefined;
  const onHooks = (): number => line.transcript().filter((e) => e.event === 'on_hook').length;
  let seen = onHooks();
  let next = 0;
  line.ring(scripts[next++]!);
  const timer = setInterval(() => {
    const count = onHooks();
    if (count === seen) return;
    seen = count;
    if (next < scripts.length) line.ring(scripts[next++]!);
    else clearInterval(timer);
  }, 20);
  return () => clearInterval(timer);
}

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
    start: (config, logger) => startGatewayProcess(config, logger, options),
  });
}

async function startGatewayProcess(
  config: GatewayConfig,
  logger: Logger,
  options: { metricsListen?: string; webhookListen?: string },
): Promise<RunningService> {
  const registry = createRegistry('gateway');
  reportPoolSize(registry, logger);
  let line: Line | null = null;
  let driver: LineDriver | undefined;
  if (config.line.driver === 'sip') {
    driver = await openSipDriver({ config: config.line.sip!, runDir: join(config.state_dir, 'sip'), logger, registry });
  } else {
    line = await openConfiguredLine(config);
    // Which libvpb binding is in use says which driver generation the addon was built for (native/README.md).
    if (line.backend === 'vpb') logger.info({ binding: line.binding }, 'vpb line open');
  }
  const stopTranscript =
    line?.backend === 'sim' && config.line.sim.transcript_file
      ? followTranscript(line as SimLine, config.line.sim.transcript_file, logger)
      : null;
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    gateway = await startGateway({
      config,
      ...(line ? { line } : {}),
      ...(driver ? { driver } : {}),
      logger,
      registry,
      metricsListen: options.metricsListen ?? config.metrics_listen,
      ...(options.webhookListen ? { webhookListen: options.webhookListen } : {}),
    });
  } catch (err) {
    // The line is ours until the gateway owns it: a start that fails (port taken) must not leave baresip running.
    await stopTranscript?.();
    await (driver ?? line)?.close();
    throw err;
  }
  const sim = line?.backend === 'sim' ? (line as SimLine) : null;
  const callers = config.line.sim.inbound as unknown as InboundScript[];
  const stopRinging = sim ? ringInSequence(sim, callers) : () => undefined;
  return {
    async stop() {
      stopRinging();
      await gateway.stop();
      await stopTranscript?.();
      await (driver ?? line)?.close();
    },
  };
}
