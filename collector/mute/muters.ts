import type { Alert } from '../../shared/index.ts';
import type { AckState, Muter, MuteSubject } from './mute.ts';

/** An acknowledgement covers the generation it was given for, until its `until` (0 = until resolved). */
export function ackCovers(ack: AckState | null | undefined, generation: number, now: number): boolean {
  return ack != null && ack.generation === generation && (ack.until === 0 || now < ack.until);
}

/** Acknowledged: the record's ack when known, else the alert snapshot's `acknowledged` flag. */
export const acknowledger: Muter = {
  reason: 'acknowledged',
  mutes: ({ alert, ack }: MuteSubject, now: number) =>
    ack === undefined ? alert.acknowledged : ackCovers(ack, alert.generation, now),
};

/**
 * Inhibited: the alert's own flag, set by whoever knows the inhibiting alert (the engine: its host is down, see
 * AlertEngine.setInhibition), so a snapshot carries the decision with it.
 */
export const inhibitor: Muter = { reason: 'inhibited', mutes: ({ alert }: MuteSubject) => alert.inhibited };

/** Silenced: `silencedBy` finds an active silence matching the alert (silences/silencer.ts). */
export function silencer(silencedBy: (alert: Alert, now: number) => unknown): Muter {
  return { reason: 'silenced', mutes: ({ alert }: MuteSubject, now: number) => silencedBy(alert, now) !== undefined };
}

/** Flapping: the series behind the alert is flapping; its `flapping` alert is told instead (never muted by this). */
export function flapDetector(isFlapping: (fingerprint: string) => boolean): Muter {
  return {
    reason: 'flapping',
    mutes: ({ alert }: MuteSubject) => alert.ruleKind !== 'flapping' && isFlapping(alert.fingerprint),
  };
}
