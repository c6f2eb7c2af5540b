import { EventEmitter } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../../shared/index.ts';
import type { CollectResult, PlayResult, RecordResult } from '../driver.ts';
import type { CallState, SipLineEvents, SipLineOptions, SipPlaceResult } from './line-types.ts';
import { dialUri } from './config.ts';
import { IDLE_AUDIO_SOURCE } from './config-dir.ts';
import type { BaresipEvent } from './control.ts';
import { callerIdOf, outcomeOfClose } from './outcome.ts';
import { BaresipSupervisor } from './supervisor.ts';
import { CallRecorder } from './recorder.ts';
import { encodeWav, PromptCache } from './wav.ts';
import { firstValue, upWithin } from './waits.ts';

export type { SipLineOptions, SipPlaceResult } from './line-types.ts';

/**
 * One phone line over SIP: baresip (kept alive by the supervisor) places and answers calls, plays
 * prompts and reports RFC 4733 digits; this class turns its events into the call-level operations
 * of the gateway's LineDriver, one call at a time.
 */
export class SipLine extends EventEmitter<SipLineEvents> {
  readonly name = 'sip';
  readonly supervisor: BaresipSupervisor;
  private readonly prompts: PromptCache;
  private readonly recorder: CallRecorder;
  private readonly log: Logger;
  private readonly now: () => number;
  private call: CallState = { kind: 'idle' };
  private lastCloseReason = '';
  private hangingUp = false;
  private sourceIsIdle = true;
  private digits = '';
  private ringTimer: NodeJS.Timeout | null = null;
  /** Why baresip went away under the current call; the call's next operation reports it as a line fault. */
  private lineFailure: string | null = null;
  private lastDownReason = 'baresip is starting';

  constructor(private readonly options: SipLineOptions) {
    super();
    this.setMaxListeners(100);
    this.log = options.logger.child({ line: 'sip' });
    this.now = options.now ?? Date.now;
    this.prompts = new PromptCache(join(options.runDir, 'prompts'));
    const supervisorOptions: ConstructorParameters<typeof BaresipSupervisor>[0] = {
      config: options.config,
      runDir: options.runDir,
      logger: options.logger,
    };
    if (options.registry) supervisorOptions.registry = options.registry;
    if (options.spawnProcess) supervisorOptions.spawnProcess = options.spawnProcess;
    if (options.stopGraceMs !== undefined) supervisorOptions.stopGraceMs = options.stopGraceMs;
    this.supervisor = new BaresipSupervisor(supervisorOptions);
    this.recorder = new CallRecorder(this.supervisor.callAudioDir);
    this.supervisor.on('event', (event) => this.onEvent(event));
    this.supervisor.on('down', (reason) => this.onLineDown(reason));
    this.supervisor.on('up', () => {
      this.sourceIsIdle = true;
    });
  }

  /** Starts baresip; resolves once the line is up the first time. */
  async open(): Promise<void> {
    await mkdir(join(this.options.runDir, 'prompts'), { recursive: true, mode: 0o700 });
    this.supervisor.start();
    await this.supervisor.waitUntilUp();
  }

  get inCall(): boolean {
    return this.call.kind === 'connected';
  }

  /**
   * Dials and waits for the answer. A line that is down (baresip restarting) is waited for as long as
   * a card waits for dial tone; still down then, the result is `no_dial_tone`, which the gateway
   * treats as a line fault: the alert stays queued and the same person is tried again later.
   */
  async placeCall(
    number: string,
    options: { answerTimeoutMs: number; dialToneTimeoutMs?: number; onOffHook?: () => void },
  ): Promise<SipPlaceResult> {
    this.lineFailure = null;
    const control = await upWithin(this.supervisor, options.dialToneTimeoutMs ?? 5_000);
    if (!control) return { outcome: 'no_dial_tone', offHookAt: null, detail: `SIP line down: ${this.lastDownReason}` };
    if (this.call.kind === 'incoming') await this.hangUp();
    if (this.call.kind !== 'idle')
      return { outcome: 'failed', offHookAt: null, detail: 'a call is already up on the SIP line' };
    this.digits = '';
    if (!this.sourceIsIdle) {
      await this.switchToSilence().catch((err: unknown) => {
        this.log.warn({ err }, 'cannot switch baresip to silence before dialling');
      });
    }
    const uri = dialUri(this.options.config, number);
    const log = this.log.child({ uri });
    this.setCall({ kind: 'outgoing', id: null, ringing: false });
    const offHookAt = this.now();
    options.onOffHook?.();
    try {
      const response = await control.command('dial', uri);
      if (!response.ok) {
        this.setCall({ kind: 'idle' });
        return { outcome: 'failed', offHookAt, detail: `baresip refused to dial ${uri}: ${response.data.trim()}` };
      }
    } catch (err) {
      this.setCall({ kind: 'idle' });
      return { outcome: 'failed', offHookAt, detail: `dial ${uri}: ${(err as Error).message}` };
    }
    const settled = await this.waitFor(
      () => (this.call.kind === 'connected' || this.call.kind === 'idle' ? this.call.kind : undefined),
      options.answerTimeoutMs,
    );
    if (settled === 'connected') {
      this.digits = '';
      log.info('call answered');
      return { outcome: 'answered', offHookAt };
    }
    if (settled === 'idle') {
      const result = outcomeOfClose(this.lastCloseReason);
      log.info({ outcome: result.outcome, reason: this.lastCloseReason }, 'call not answered');
      await this.settle();
      return { outcome: result.outcome, offHookAt, detail: result.detail };
    }
    const current = this.call as CallState;
    const heardRinging = current.kind === 'outgoing' && current.ringing;
    await this.hangUp();
    log.info({ answerTimeoutMs: options.answerTimeoutMs, heardRinging }, 'no answer; call cancelled');
    return {
      outcome: 'no_answer',
      offHookAt,
      detail: heardRinging ? `no answer within ${options.answerTimeoutMs} ms` : 'no_ringback',
    };
  }

  /** A call lost with baresip is a line fault, not the person hanging up: say so by throwing. */
  private throwIfLineFailed(): void {
    if (this.lineFailure !== null) throw new Error(`SIP line failed during the call: ${this.lineFailure}`);
  }

  /** Picks up the ringing inbound call. */
  async answerInbound(): Promise<{ callerId: string | null }> {
    this.lineFailure = null;
    const control = this.supervisor.control;
    if (this.call.kind !== 'incoming' || !control) throw new Error('no inbound call is ringing on the SIP line');
    const { callerId } = this.call;
    this.stopRinging();
    this.digits = '';
    const response = await control.command('accept');
    if (!response.ok) throw new Error(`baresip could not answer: ${response.data.trim()}`);
    const state = await this.waitFor(
      () => (this.call.kind === 'connected' || this.call.kind === 'idle' ? this.call.kind : undefined),
      5_000,
    );
    if (state !== 'connected')
      throw new Error(
        state === 'idle'
          ? `the caller hung up before the answer (${this.lastCloseReason})`
          : 'the inbound call did not connect within 5 s',
      );
    return { callerId };
  }

  /** Plays a prompt into the call; a digit (new or already buffered) cuts it short when `interruptOnDigit`. */
  async play(wavPath: string, options: { interruptOnDigit?: boolean } = {}): Promise<PlayResult> {
    const prompt = await this.prompts.prepare(wavPath);
    const interrupted = (): boolean => options.interruptOnDigit === true && this.digits.length > 0;
    const control = this.supervisor.control;
    this.throwIfLineFailed();
    if (this.call.kind !== 'connected' || !control) return { interruptedBy: null, hungUp: true };
    if (interrupted()) return { interruptedBy: this.digits[0]!, hungUp: false };
    const response = await control.command('ausrc', `aufile,${prompt.file}`);
    if (!response.ok) throw new Error(`baresip could not play ${wavPath}: ${response.data.trim()}`);
    this.sourceIsIdle = false;
    const ended = await this.waitFor(
      () => (this.call.kind !== 'connected' ? 'hangup' : interrupted() ? 'digit' : undefined),
      prompt.durationMs,
    );
    this.throwIfLineFailed();
    if (ended === 'hangup') return { interruptedBy: null, hungUp: true };
    await this.switchToSilence();
    return { interruptedBy: ended === 'digit' ? this.digits[0]! : null, hungUp: false };
  }

  /** Collects digits already buffered or pressed, like the card: max digits, term key, timeout or hang-up. */
  async collect(options: {
    maxDigits: number;
    timeoutMs: number;
    interDigitTimeoutMs?: number;
    termKey?: string;
  }): Promise<CollectResult> {
    const start = this.now();
    let collected = '';
    let lastDigitAt = -1;
    for (;;) {
      while (this.digits.length > 0) {
        const digit = this.digits[0]!;
        this.digits = this.digits.slice(1);
        lastDigitAt = this.now();
        if (options.termKey !== undefined && digit === options.termKey)
          return { digits: collected, reason: 'term_key' };
        collected += digit;
        if (collected.length >= options.maxDigits) return { digits: collected, reason: 'max_digits' };
      }
      this.throwIfLineFailed();
      if (this.call.kind !== 'connected') return { digits: collected, reason: 'hangup' };
      let deadline = start + options.timeoutMs;
      if (lastDigitAt >= 0 && (options.interDigitTimeoutMs ?? 0) > 0)
        deadline = Math.min(deadline, lastDigitAt + options.interDigitTimeoutMs!);
      const woke = await this.waitFor(
        () => (this.digits.length > 0 || this.call.kind !== 'connected' ? true : undefined),
        Math.max(0, deadline - this.now()),
      );
      if (woke === undefined) return { digits: collected, reason: 'timeout' };
    }
  }

  /** Records what the far end says until the term key, the timeout or a hang-up (voice notes). */
  async record(path: string, options: { timeoutMs: number; termKey?: string }): Promise<RecordResult> {
    this.throwIfLineFailed();
    const start = this.now();
    if (this.call.kind !== 'connected') {
      await writeFile(path, encodeWav(new Int16Array(0)), { mode: 0o600 });
      return { reason: 'hangup', durationMs: 0 };
    }
    const from = await this.recorder.mark();
    let termKeyAt = -1;
    const onDigit = (digit: string): void => {
      if (digit === options.termKey && termKeyAt < 0) termKeyAt = this.now();
    };
    this.on('dtmf', onDigit);
    const ended = await this.waitFor(
      () => (termKeyAt >= 0 ? 'term_key' : this.call.kind !== 'connected' ? 'hangup' : undefined),
      options.timeoutMs,
    );
    this.off('dtmf', onDigit);
    this.throwIfLineFailed();
    const reason = ended ?? 'timeout';
    if (reason === 'term_key') {
      // The key that ended the recording is not a menu choice.
      const at = this.digits.lastIndexOf(options.termKey!);
      if (at >= 0) this.digits = this.digits.slice(0, at) + this.digits.slice(at + 1);
    }
    await this.recorder.cut(from, path);
    return {
      reason,
      durationMs:
        reason === 'timeout' ? options.timeoutMs : reason === 'term_key' ? termKeyAt - start : this.now() - start,
    };
  }

  flushDigits(): void {
    this.digits = '';
  }

  /** Ends the call (or rejects a ringing one); safe when idle. Leaves baresip with no call and a silent source. */
  async hangUp(): Promise<void> {
    const control = this.supervisor.control;
    this.stopRinging();
    if (this.call.kind !== 'idle' && control) {
      this.hangingUp = true;
      try {
        await control.command('hangup');
        await this.waitFor(() => (this.call.kind === 'idle' ? true : undefined), 5_000);
      } catch (err) {
        this.log.warn({ err }, 'hangup failed; the call is dropped with baresip');
      } finally {
        this.hangingUp = false;
      }
    }
    this.setCall({ kind: 'idle' });
    await this.settle();
  }

  onRing(listener: (info: { callerId: string | null }) => void): () => void {
    this.on('ring', listener);
    return () => this.off('ring', listener);
  }

  onHangup(listener: () => void): () => void {
    this.on('hangup', listener);
    return () => this.off('hangup', listener);
  }

  async close(): Promise<void> {
    this.stopRinging();
    await this.supervisor.stop();
  }

  /** baresip 1.0's hangup acts on its "current" call and its ausrc setting outlives the call: make both clean. */
  private async settle(): Promise<void> {
    const control = this.supervisor.control;
    if (!control) return;
    try {
      for (let tries = 0; tries < 3; tries++) {
        const list = await control.command('listcalls');
        const count = Number(/Active calls \((\d+)\)/.exec(list.data)?.[1] ?? '0');
        if (count === 0) break;
        this.log.warn({ count }, 'baresip still holds calls after the call ended; hanging them up');
        await control.command('hangup');
      }
      if (!this.sourceIsIdle) await this.switchToSilence();
      await this.recorder.clear();
    } catch (err) {
      this.log.warn({ err }, 'could not tidy baresip after a call');
    }
  }

  private async switchToSilence(): Promise<void> {
    const control = this.supervisor.control;
    if (!control) return;
    const response = await control.command('ausrc', IDLE_AUDIO_SOURCE);
    if (response.ok) this.sourceIsIdle = true;
  }

  private onEvent(event: BaresipEvent): void {
    const call = this.call;
    // Before the first event of a dialled call its Call-ID is unknown; the direction still tells it apart.
    const sameCall = (id: string | null): boolean => (id === null ? event.direction === 'outgoing' : event.id === id);
    switch (event.type) {
      case 'CALL_INCOMING': {
        if (call.kind !== 'idle' || event.id === undefined) {
          this.log.warn({ peer: event.peeruri }, 'inbound call while the line is busy; baresip rejects it');
          return;
        }
        const callerId = callerIdOf(event.peeruri);
        this.setCall({ kind: 'incoming', id: event.id, callerId });
        this.log.info({ callerId }, 'inbound call ringing');
        this.emit('ring', { callerId });
        this.ringTimer = setInterval(() => this.emit('ring', { callerId }), this.options.ringRepeatMs ?? 4_000);
        return;
      }
      case 'CALL_RINGING':
      case 'CALL_PROGRESS':
        if (call.kind === 'outgoing' && sameCall(call.id))
          this.setCall({ kind: 'outgoing', id: event.id ?? call.id, ringing: true });
        return;
      case 'CALL_ESTABLISHED':
        if ((call.kind === 'outgoing' || call.kind === 'incoming') && sameCall(call.id))
          this.setCall({ kind: 'connected', id: event.id ?? call.id });
        return;
      case 'CALL_DTMF_START':
        if (call.kind === 'connected' && sameCall(call.id) && event.param && /^[0-9*#A-D]$/.test(event.param)) {
          this.digits += event.param;
          this.emit('dtmf', event.param);
          this.emit('change');
        }
        return;
      case 'AUDIO_ERROR':
        this.log.warn({ reason: event.param }, 'baresip audio error');
        return;
      case 'CALL_CLOSED':
        if (call.kind !== 'idle' && sameCall(call.id)) this.ended(event.param ?? '', call.kind === 'connected');
        return;
      default:
        return;
    }
  }

  private onLineDown(reason: string): void {
    this.lastDownReason = reason;
    if (this.call.kind === 'idle') return;
    this.log.error({ reason }, 'SIP line lost with a call up');
    this.lineFailure = reason;
    this.ended(`baresip stopped: ${reason}`, false);
  }

  private ended(reason: string, wasConnected: boolean): void {
    this.stopRinging();
    this.lastCloseReason = reason;
    this.setCall({ kind: 'idle' });
    if (wasConnected && !this.hangingUp) {
      this.log.info({ reason }, 'far end hung up');
      this.emit('hangup');
    }
  }

  private stopRinging(): void {
    if (this.ringTimer) clearInterval(this.ringTimer);
    this.ringTimer = null;
  }

  private setCall(call: CallState): void {
    this.call = call;
    this.emit('change');
  }

  /**
   * Resolves with the first defined value of `check` (re-run on every state change), or undefined after `timeoutMs`.
   */
  private waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return firstValue(this, check, timeoutMs);
  }
}
