import { AgentPositions, LEGACY_EPOCH, type EpochPosition, type PositionLimits } from './positions.ts';

export interface IntakeLimits extends PositionLimits {
  /** How far in the future of its arrival an event's `ts` may be. */
  maxClockSkewMs: number;
  /** How far in the past of its arrival an event's `ts` may be (the agent's spool holds events through outages). */
  maxEventAgeMs: number;
}

export const DEFAULT_INTAKE_LIMITS: IntakeLimits = {
  maxClockSkewMs: 5 * 60_000,
  maxEventAgeMs: 7 * 86_400_000,
  maxSeqJump: 1_000_000,
  epochsPerHost: 4,
};

/** Why an event was not evaluated; `duplicate` is counted apart (offhook_collector_duplicate_events_total). */
export type RejectReason = 'ts_future' | 'ts_past' | 'seq_jump';
export type GateVerdict = 'accept' | 'duplicate' | RejectReason;

export interface GatedEvent {
  host: string;
  epoch?: string | undefined;
  seq: number;
  ts: number;
}

/**
 * What an agent event may claim before the engine believes it: a timestamp near its arrival and a
 * sequence step the agent could have made. `arrivedAt` is the time JetStream stored the message, so a
 * replay after a restart decides exactly as the live read did (the checkpoint holds the positions).
 */
export class IntakeGate {
  readonly positions: AgentPositions;

  constructor(private readonly limits: IntakeLimits = DEFAULT_INTAKE_LIMITS) {
    this.positions = new AgentPositions(limits);
  }

  admit(event: GatedEvent, streamSeq: number, arrivedAt: number): GateVerdict {
    if (event.ts > arrivedAt + this.limits.maxClockSkewMs) return 'ts_future';
    if (event.ts < arrivedAt - this.limits.maxEventAgeMs) return 'ts_past';
    return this.positions.admit(event.host, event.epoch ?? LEGACY_EPOCH, event.seq, event.ts, streamSeq);
  }

  snapshot(): Record<string, EpochPosition[]> {
    return this.positions.snapshot();
  }

  restore(saved: unknown, legacy?: Record<string, { seq?: unknown; ts?: unknown }>): void {
    this.positions.restore(saved, legacy);
  }
}
