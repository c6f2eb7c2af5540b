import type { Logger, Registry } from '../../../shared/index.ts';
import type { PlaceResult } from '../driver.ts';
import type { SipLineConfig } from './config.ts';
import type { SipPlaceOutcome } from './outcome.ts';
import type { SpawnProcess } from './supervisor.ts';

// The SIP line's options, results and call state (sip-line.ts).

export interface SipLineOptions {
  config: SipLineConfig;
  runDir: string;
  logger: Logger;
  registry?: Registry;
  spawnProcess?: SpawnProcess;
  now?: () => number;
  /** An inbound call "rings" again this often until answered, like an analog line's cadence. */
  ringRepeatMs?: number;
  stopGraceMs?: number;
}

/** The driver contract's PlaceResult, with the outcomes a SIP call can have. */
export type SipPlaceResult = PlaceResult & { outcome: SipPlaceOutcome | 'no_dial_tone' };

export type CallState =
  | { kind: 'idle' }
  | { kind: 'outgoing'; id: string | null; ringing: boolean }
  | { kind: 'incoming'; id: string; callerId: string | null }
  | { kind: 'connected'; id: string | null };

export interface SipLineEvents {
  ring: [{ callerId: string | null }];
  hangup: [];
  dtmf: [string];
  change: [];
}
