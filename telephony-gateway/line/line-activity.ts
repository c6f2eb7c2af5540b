import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Clock, LineState } from '../../shared/index.ts';
import type { LineDriver } from '../drivers/driver.ts';

const MAX_SPOKEN = 50;

/**
 * Watches what the line does by standing between the gateway and its driver: the state the operator console shows
 * (idle, dialling, ringing, connected, speaking, waiting for a key, recording), who is on the line since when, and the
 * text of each prompt played (the speech cache keeps it beside the WAV as `<file>.txt`), for the call record.
 * An outbound call rings once the driver says the number is dialled (`onDialled`: the card driver; the SIP driver
 * does not, so its calls stay `dialling` until answered).
 */
export class LineActivity {
  readonly driver: LineDriver;
  state: LineState = 'idle';
  call: { direction: 'outbound' | 'inbound'; number: string; since: number } | null = null;
  private spoken: Promise<string>[] = [];

  constructor(
    inner: LineDriver,
    private readonly clock: Clock,
  ) {
    const track = async <T>(state: LineState, run: () => Promise<T>, after: LineState = 'connected'): Promise<T> => {
      this.state = state;
      try {
        return await run();
      } finally {
        // A hang-up during the step already made the line idle.
        if (this.state === state) this.state = after;
      }
    };
    inner.onRing(({ callerId }) => {
      if (this.state !== 'idle') return;
      this.state = 'ringing';
      this.begin('inbound', callerId ?? 'withheld');
    });
    inner.onHangup(() => this.end());
    this.driver = {
      name: inner.name,
      placeCall: async (number, options) => {
        this.begin('outbound', number);
        this.state = 'dialling';
        const onDialled = (): void => {
          if (this.state === 'dialling') this.state = 'ringing';
          options.onDialled?.();
        };
        try {
          const result = await inner.placeCall(number, { ...options, onDialled });
          if (result.outcome === 'answered') this.state = 'connected';
          else this.end();
          return result;
        } catch (err) {
          this.end();
          throw err;
        }
      },
      answerInbound: async () => {
        const answered = await track('connected', () => inner.answerInbound());
        if (this.call) this.call.number = answered.callerId ?? 'withheld';
        else this.begin('inbound', answered.callerId ?? 'withheld');
        return answered;
      },
      play: (wavPath, options) => {
        if (this.spoken.length < MAX_SPOKEN) this.spoken.push(spokenText(wavPath));
        return track('speaking', () => inner.play(wavPath, options));
      },
      collect: (options) => track('waiting_for_key', () => inner.collect(options)),
      record: (path, options) => track('recording', () => inner.record(path, options)),
      flushDigits: () => inner.flushDigits(),
      hangUp: async () => {
        await inner.hangUp();
        this.end();
      },
      onRing: (listener) => inner.onRing(listener),
      onHangup: (listener) => inner.onHangup(listener),
      close: () => inner.close(),
    };
  }

  /** The text of every prompt played since the last call ended, for that call's record. */
  async takeSpoken(): Promise<string[]> {
    const spoken = this.spoken;
    this.spoken = [];
    return Promise.all(spoken);
  }

  private begin(direction: 'outbound' | 'inbound', number: string): void {
    this.call = { direction, number, since: this.clock.now() };
    // A call that was never recorded (a shutdown cut it short) must not lend its prompts to the next one.
    this.spoken = [];
  }

  private end(): void {
    this.state = 'idle';
    this.call = null;
  }
}

async function spokenText(wavPath: string): Promise<string> {
  try {
    return (await readFile(`${wavPath}.txt`, 'utf8')).trim().slice(0, 1000);
  } catch {
    // An operator's own recording (speech.recordings_dir) has no text beside it: name the file instead.
    return `[recording ${basename(wavPath)}]`.slice(0, 1000);
  }
}
