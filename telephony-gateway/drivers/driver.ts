// The call-level contract every line driver implements, and the results it gives. The results of a prompt, a
// recording and key collection are the native line's (native/line.ts, the addon package's types): the card driver
// passes them through, and every other driver gives the same shapes.
import type { Line } from '../../native/line.ts';

export type { CollectResult, PlayResult, RecordResult } from '../../native/line.ts';

/** How an outbound call attempt ended before anyone spoke. Only `answered` leaves the call up. */
export type PlaceOutcome = 'answered' | 'busy' | 'no_answer' | 'no_dial_tone' | 'hung_up' | 'failed';

export interface PlaceResult {
  outcome: PlaceOutcome;
  /** When the line went off hook (epoch ms), for the alert-to-off-hook metric. */
  offHookAt: number | null;
  detail?: string;
}

export interface PlaceOptions {
  dialToneTimeoutMs: number;
  answerTimeoutMs: number;
  /** Called the moment the line is seized, before dialling. */
  onOffHook?: () => void;
  /** Called once the number is dialled and the far end rings (drivers that cannot tell may never call it). */
  onDialled?: () => void;
}

/**
 * A call-level phone line. Queue, escalation and budget talk only to this; the `card` driver
 * composes the native CTPort operations, and a SIP user agent can implement the same contract. Prompts, recordings
 * and key collection are the native line's own calls (play, collect, record, flushDigits), same signatures.
 * One call at a time: callers must not start a call while another is up (the line worker ensures it).
 */
export interface LineDriver extends Pick<Line, 'play' | 'collect' | 'record' | 'flushDigits'> {
  readonly name: string;
  /** Dials and waits for answer; on anything but `answered` the line is back on hook when this resolves. */
  placeCall(number: string, options: PlaceOptions): Promise<PlaceResult>;
  /** Picks up a ringing line; resolves with the caller ID (null when withheld). */
  answerInbound(): Promise<{ callerId: string | null }>;
  /** Ends the call (on hook). Safe to call when already on hook. */
  hangUp(): Promise<void>;
  /** The line rings with an inbound call. Returns an unsubscribe function. */
  onRing(listener: (info: { callerId: string | null }) => void): () => void;
  /** The far end hung up during a call. */
  onHangup(listener: () => void): () => void;
  close(): Promise<void>;
}
