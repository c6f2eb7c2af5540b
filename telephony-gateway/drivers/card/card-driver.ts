import type { Line } from '../../../native/line.ts';
import type { LineDriver, PlaceOptions, PlaceResult } from '../driver.ts';

/**
 * The analog card driver: a call is the CTPort sequence off hook, dial tone, dial, call progress.
 * Anything other than an answer puts the line back on hook before returning, so the next call
 * always starts from a released line.
 */
export class CardDriver implements LineDriver {
  readonly name: string;

  constructor(
    private readonly line: Line,
    private readonly options: { dialPrefix?: string; now?: () => number } = {},
  ) {
    this.name = `card/${line.backend}`;
  }

  async placeCall(number: string, options: PlaceOptions): Promise<PlaceResult> {
    const now = this.options.now ?? Date.now;
    let offHookAt: number | null = null;
    try {
      this.line.flushDigits();
      await this.line.offHook();
      offHookAt = now();
      options.onOffHook?.();
      if (!(await this.line.waitForDialTone(options.dialToneTimeoutMs))) {
        await this.line.onHook();
        return { outcome: 'no_dial_tone', offHookAt, detail: `no dial tone within ${options.dialToneTimeoutMs} ms` };
      }
      await this.line.dial(`${this.options.dialPrefix ?? ''}${number}`);
      options.onDialled?.();
      const progress = await this.line.waitForAnswer(options.answerTimeoutMs);
      if (progress === 'answered') {
        this.line.flushDigits();
        return { outcome: 'answered', offHookAt };
      }
      await this.line.onHook();
      if (progress === 'busy') return { outcome: 'busy', offHookAt };
      if (progress === 'no_answer' || progress === 'no_ringback')
        return { outcome: 'no_answer', offHookAt, detail: progress };
      // Picked up and dropped at once: the person (or their phone) hung up, not a line fault.
      if (progress === 'disconnected') return { outcome: 'hung_up', offHookAt, detail: progress };
      return { outcome: 'failed', offHookAt, detail: `call progress: ${progress}` };
    } catch (err) {
      await this.hangUp();
      return { outcome: 'failed', offHookAt, detail: (err as Error).message };
    }
  }

  async answerInbound(): Promise<{ callerId: string | null }> {
    const callerId = this.line.callerId;
    this.line.flushDigits();
    await this.line.offHook();
    return { callerId };
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

  async hangUp(): Promise<void> {
    if (this.line.hookState === 'off') {
      try {
        await this.line.onHook();
      } catch {
        // The line is being torn down anyway; the next offHook reports a real fault.
      }
    }
  }

  onRing(listener: (info: { callerId: string | null }) => void): () => void {
    this.line.on('ring', listener);
    return () => this.line.off('ring', listener);
  }

  onHangup(listener: () => void): () => void {
    this.line.on('hangup', listener);
    return () => this.line.off('hangup', listener);
  }

  close(): Promise<void> {
    return this.line.close();
  }
}
