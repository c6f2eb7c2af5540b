import type { LineDriver, PlaceOptions, PlaceResult } from '../driver.ts';
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
