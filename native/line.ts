/**
 * The contract between the telephony gateway and the phone line (Telephony::CTPort's operations,
 * Promise-based). Both backends, `vpb` (Voicetronix card through libvpb) and `sim` (a simulated
 * exchange line with a scriptable far end), implement it; the gateway never knows which runs.
 */

export type Backend = 'vpb' | 'sim';
export type HookState = 'on' | 'off';

/** Call progress after dialling, as libvpb's VPB_CALL_* results name them. */
export type CallProgress = 'answered' | 'busy' | 'no_answer' | 'no_ringback' | 'disconnected';

/** How a prompt ended. */
export interface PlayResult {
  /** The DTMF digit that cut the prompt short, or null when it played to the end. */
  interruptedBy: string | null;
  /** True when the far end hung up during the prompt. */
  hungUp: boolean;
}

/** How a recording (a voice note) ended. */
export interface RecordResult {
  reason: 'term_key' | 'timeout' | 'hangup';
  durationMs: number;
}

/** The keys collected, and why collecting stopped. */
export interface CollectResult {
  digits: string;
  reason: 'max_digits' | 'term_key' | 'timeout' | 'hangup';
}

export interface LineEvents {
  ring: (info: { callerId: string | null }) => void;
  dtmf: (digit: string) => void;
  tone: (tone: 'dial' | 'ringback' | 'busy' | 'grunt') => void;
  /** Loop drop: the far end hung up. */
  hangup: () => void;
  error: (error: Error) => void;
}

export interface Line {
  readonly backend: Backend;
  readonly hookState: HookState;
  /**
   * vpb: how libvpb's functions were bound, "shim compiled against <vpbapi.h>" or "dlsym lookup of the VPBAPI.H
   * 1999-2001 names in <library>" (native/README.md, driver generations); "" for the simulated line.
   */
  readonly binding: string;
  /** Caller ID of the current or last inbound call (null when withheld or none). */
  readonly callerId: string | null;

  offHook(): Promise<void>;
  onHook(): Promise<void>;
  /** Resolves true once dial tone is heard, false on timeout. Requires off hook. */
  waitForDialTone(timeoutMs: number): Promise<boolean>;
  /** Resolves with the caller ID at the first ring, null on timeout. Requires on hook. */
  waitForRing(timeoutMs: number): Promise<{ callerId: string | null } | null>;
  /** Dials `0-9*#,+` (comma = 1 s pause). Requires off hook. */
  dial(number: string): Promise<void>;
  /** Call progress after `dial`: waits for answer, busy or no answer within `timeoutMs`. */
  waitForAnswer(timeoutMs: number): Promise<CallProgress>;
  /** Plays an 8 or 16 kHz mono 16-bit PCM WAV; a DTMF digit stops it when `interruptOnDigit`. */
  play(wavPath: string, options?: { interruptOnDigit?: boolean }): Promise<PlayResult>;
  record(path: string, options: { timeoutMs: number; termKey?: string }): Promise<RecordResult>;
  /** Collects DTMF digits already buffered or pressed until max digits, the term key, timeout or hang-up. */
  collect(options: {
    maxDigits: number;
    timeoutMs: number;
    interDigitTimeoutMs?: number;
    termKey?: string;
  }): Promise<CollectResult>;
  /** Drops digits buffered so far (done on every off hook). */
  flushDigits(): void;

  on<E extends keyof LineEvents>(event: E, listener: LineEvents[E]): this;
  off<E extends keyof LineEvents>(event: E, listener: LineEvents[E]): this;
  /** Stops every native thread of this line; the process can exit afterwards. */
  close(): Promise<void>;
}

/**
 * One step of the simulated far end, run in order from the moment the call is answered (outbound: the far end answers;
 * inbound: the line goes off hook).
 */
export type FarEndStep =
  | { wait: number }
  | { press: string }
  | { hangUp: true }
  /** Waits until the line plays a prompt (optionally one whose file name matches) and `waitFor` ms more of it. */
  | { waitForPrompt: string | true; after?: number };

/** What the far end of the next outbound call to `number` does. */
export interface FarEndScript {
  number: string;
  answerAfterRings?: number;
  busy?: boolean;
  noAnswer?: boolean;
  /** Hangs up this many ms after answering regardless of the steps. */
  hangUpAfter?: number;
  then?: FarEndStep[];
}

export interface InboundScript {
  callerId: string | null;
  /** Rings before the far end gives up if nobody answers. */
  maxRings?: number;
  then?: FarEndStep[];
}

export type TranscriptEntry =
  | {
      t: number;
      event:
        | 'off_hook'
        | 'on_hook'
        | 'dial_tone'
        | 'answered'
        | 'busy'
        | 'no_answer'
        | 'far_hangup'
        | 'ring'
        | 'closed';
      detail?: string;
    }
  | { t: number; event: 'dial'; number: string }
  /** `durationMs` is the WAV's length from its header, `playedMs` how much of it played (less when interrupted). */
  | { t: number; event: 'play'; file: string; durationMs: number; playedMs: number; interruptedBy: string | null }
  | { t: number; event: 'record'; file: string; durationMs: number; reason: string }
  | { t: number; event: 'press'; digit: string }
  | { t: number; event: 'collect'; digits: string; reason: string };

export interface SimLine extends Line {
  readonly backend: 'sim';
  /** Queues the far end's behaviour for calls to `script.number` (FIFO per number; unscripted numbers never answer). */
  script(script: FarEndScript): void;
  /** Starts an inbound call: the line rings with this caller ID. */
  ring(script: InboundScript): void;
  /**
   * Everything dialled, played, recorded and pressed, in line-time order: `t` is ms since open in line time
   * (real time × speed), so a transcript reads the same at any speed. File names are base names.
   */
  transcript(): TranscriptEntry[];
}

export interface OpenLineOptions {
  backend: Backend;
  vpb?: {
    libraryPath?: string;
    /**
     * The libvpb binding compiled against the driver's vpbapi.h (native/vpb-shim.sh); default
     * build/Release/offhook_vpb_shim.so when it exists. Used only with the default libraryPath.
     */
    shimPath?: string;
    board?: number;
    channel?: number;
    /** Ringback that stops this long means answered (VPB_CALL inter_ringback_timeout); default 6500. */
    interRingbackMs?: number;
    /** No ringback this long after dialling gives 'no_ringback'; default 10000. */
    ringbackTimeoutMs?: number;
    /** How long to listen for caller ID after the first ring (or until the second); default 6000. */
    callerIdWindowMs?: number;
  };
  sim?: { speed?: number; dialToneDelayMs?: number; ringPeriodMs?: number; noDialTone?: boolean };
}
