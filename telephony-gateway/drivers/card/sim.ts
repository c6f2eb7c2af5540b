import { appendFile } from 'node:fs/promises';
import type { InboundScript, SimLine } from '../../../native/line.ts';
import type { Logger } from '../../../shared/index.ts';
import type { GatewayConfig } from '../../config.ts';
import { pinMasker } from '../../inbound/transcript-mask.ts';
import { CardDriver } from './card-driver.ts';

type SimSettings = GatewayConfig['line']['sim'];

/**
 * The card driver on the simulated line, with what a process on it offers tests and the demo: the transcript
 * followed into `sim.transcript_file`, and the `sim.inbound` callers rung one after another.
 */
export class SimCardDriver extends CardDriver {
  private readonly stopTranscript: (() => Promise<void>) | null;
  private stopRinging: (() => void) | null = null;

  constructor(
    private readonly sim: SimLine,
    private readonly settings: SimSettings,
    options: ConstructorParameters<typeof CardDriver>[1],
    logger: Logger,
  ) {
    super(sim, options);
    this.stopTranscript = settings.transcript_file ? followTranscript(sim, settings.transcript_file, logger) : null;
  }

  /** The scripted callers start ringing once someone listens for rings: the gateway, ready to answer. */
  override onRing(listener: (info: { callerId: string | null }) => void): () => void {
    const off = super.onRing(listener);
    this.stopRinging ??= ringInSequence(this.sim, this.settings.inbound as unknown as InboundScript[]);
    return off;
  }

  override async close(): Promise<void> {
    this.stopRinging?.();
    await this.stopTranscript?.();
    await super.close();
  }
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
