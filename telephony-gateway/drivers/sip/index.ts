import { join } from 'node:path';
import type { LineDriver, PlaceOptions, PlaceResult } from '../driver.ts';
import type { OpenDriver } from '../open.ts';
import { SipLine, type SipLineOptions } from './sip-line.ts';

export { SipLineConfig, type SipLineConfigInput, dialUri } from './config.ts';
export { SipLine, type SipLineOptions } from './sip-line.ts';
export { BaresipSupervisor } from './supervisor.ts';

/**
 * The `sip` LineDriver: the gateway's call-level contract over a SIP trunk or PBX, through a
 * supervised baresip. Same outcomes as the card driver; busy, rejected and failed calls carry the
 * SIP status in `detail`.
 */
export class SipDriver implements LineDriver {
  readonly name = 'sip';

  constructor(readonly line: SipLine) {}

  placeCall(number: string, options: PlaceOptions): Promise<PlaceResult> {
    return this.line.placeCall(number, options);
  }
  answerInbound() {
    return this.line.answerInbound();
  }
  play(wavPath: string, options?: { interruptOnDigit?: boolean }) {
    return this.line.play(wavPath, options);
  }
  collect(options: { maxDigits: number; timeoutMs: number; interDigitTimeoutMs?: number; termKey?: string }) {
    return this.line.collect(options);
  }
  record(path: string, options: { timeoutMs: number; termKey?: string }) {
    return this.line.record(path, options);
  }
  flushDigits(): void {
    this.line.flushDigits();
  }
  hangUp(): Promise<void> {
    return this.line.hangUp();
  }
  onRing(listener: (info: { callerId: string | null }) => void): () => void {
    return this.line.onRing(listener);
  }
  onHangup(listener: () => void): () => void {
    return this.line.onHangup(listener);
  }
  close(): Promise<void> {
    return this.line.close();
  }
}

/** Starts baresip with the config's account and resolves with a ready driver. */
export async function openSipDriver(options: SipLineOptions): Promise<SipDriver> {
  const line = new SipLine(options);
  await line.open();
  return new SipDriver(line);
}

/** The `sip` driver as `line.driver: sip` opens it: baresip's run files under `<state_dir>/sip`. */
export const open: OpenDriver = async (config, context) => {
  if (context.line) throw new Error('a line opened already is for the card driver; line.driver is sip');
  if (!config.sip) throw new Error('line.sip: expected a sip: section when driver is "sip"');
  const { logger, registry } = context;
  const runDir = join(context.stateDir, 'sip');
  return openSipDriver({ config: config.sip, runDir, logger, ...(registry ? { registry } : {}) });
};
