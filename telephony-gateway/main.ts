import { appendFile } from 'node:fs/promises';
import { openLine } from '../native/index.ts';
import type { FarEndScript, Line, SimLine } from '../native/line.ts';
import { join } from 'node:path';
import { createLogger, createRegistry, loadConfigFile, type Logger } from '../shared/index.ts';
import type { LineDriver } from './drivers/driver.ts';
import { openSipDriver } from './drivers/sip/index.ts';
import { GatewayConfig } from './config.ts';
import { startGateway } from './gateway.ts';

/** Opens the line the config names: the Voicetronix card, or the simulated line with its far-end scripts. */
export async function openConfiguredLine(config: GatewayConfig): Promise<Line> {
  const line = config.line;
  if (line.backend === 'vpb') {
    return openLine({ backend: 'vpb', vpb: { board: line.vpb.board, channel: line.vpb.channel, ...(line.vpb.library_path ? { libraryPath: line.vpb.library_path } : {}) } });
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
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> =>
    (writing = writing.then(async () => {
      const entries = line.transcript();
      if (entries.length <= written) return;
      const fresh = entries.slice(written);
      written = entries.length;
      await appendFile(file, fresh.map((e) => JSON.stringify(e)).join('\n') + '\n').catch((err: Error) => logger.warn({ err, file }, 'cannot write transcript'));
    }));
  const timer = setInterval(() => void flush(), 20);
  return async () => {
    clearInterval(timer);
    await flush();
  };
}

/** `offhook gateway`: load config, open the line, connect, start the loops, serve metrics, stop cleanly on SIGTERM. */
export async function runGatewayProcess(configFile: string, options: { metricsListen?: string; webhookListen?: string }): Promise<void> {
  const config = loadConfigFile(configFile, GatewayConfig);
  const logger = createLogger('gateway');
  const registry = createRegistry('gateway');
  let line: Line | null = null;
  let driver: LineDriver | undefined;
  if (config.line.driver === 'sip') {
    driver = await openSipDriver({ config: config.line.sip!, runDir: join(config.state_dir, 'sip'), logger, registry });
  } else {
    line = await openConfiguredLine(config);
  }
  const stopTranscript = line?.backend === 'sim' && config.line.sim.transcript_file ? followTranscript(line as SimLine, config.line.sim.transcript_file, logger) : null;
  const gateway = await startGateway({ config, ...(line ? { line } : {}), ...(driver ? { driver } : {}), logger, registry, metricsListen: options.metricsListen ?? config.metrics_listen, ...(options.webhookListen ? { webhookListen: options.webhookListen } : {}) });
  const shutdown = async (signal: string): Promise<void> => {
    logger.info({ signal }, 'stopping gateway');
    await gateway.stop();
    await stopTranscript?.();
    await (driver ?? line)?.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
