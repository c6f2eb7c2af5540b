import * as z from 'zod';
import type { Alert } from '../../shared/index.ts';

/**
 * Why an alert is held back, in precedence order: when several apply, the first is the reason given. Inhibition
 * first, as in Alertmanager (the down host is the cause people should hear about), then silences (a person chose
 * this), then flapping (the series' flapping alert speaks for it), then an acknowledgement.
 */
export const MuteReason = z.enum(['inhibited', 'silenced', 'flapping', 'acknowledged']);
export type MuteReason = z.infer<typeof MuteReason>;

/**
 * What would be told: the first firing of a generation, a severity rise within it, a re-notification, the
 * resolution, or the gateway's fallback (it could not phone: nothing of ours holds that back).
 */
export type Announcement = 'firing' | 'rise' | 'repeat' | 'resolved' | 'fallback';

/**
 * Which reasons hold back which announcements. A silence or a down host holds back firing and repeats but not the
 * resolution of something people were told; flapping holds back the whole fire/resolve stream; an acknowledgement
 * covers repeats and rises only (the first firing of its generation was told before it could be acknowledged).
 */
const HOLDS_BACK: Record<MuteReason, ReadonlySet<Announcement>> = {
  inhibited: new Set(['firing', 'rise', 'repeat']),
  silenced: new Set(['firing', 'rise', 'repeat']),
  flapping: new Set(['firing', 'rise', 'repeat', 'resolved']),
  acknowledged: new Set(['rise', 'repeat']),
};

/** The acknowledgement of an alert record (alert-record.ts): one generation, optionally until a time. */
export interface AckState {
  generation: number;
  /** 0 = until the alert resolves. */
  until: number;
}

/** What a muter looks at: the alert and, when known (the engine has the record), its acknowledgement. */
export interface MuteSubject {
  alert: Alert;
  /** undefined: only a snapshot of the alert is known, and its `acknowledged` flag speaks for the record. */
  ack?: AckState | null;
}

/** One source of muting (Alertmanager's Muter): the silencer, the inhibitor, the flap detector, acknowledgements. */
export interface Muter {
  readonly reason: MuteReason;
  mutes(subject: MuteSubject, now: number): boolean;
}

export type MuteDecision = { muted: false } | { muted: true; reason: MuteReason };

export type MuteFn = (subject: MuteSubject, now: number, announcement?: Announcement) => MuteDecision;

const NOT_MUTED: MuteDecision = { muted: false };

/**
 * The one decision "should people be told about this alert now?", over the given muters. The engine's announce
 * logic (alerts/announce.ts), the collector's own external alerts and the notification pipeline's mute stage all
 * call the function this returns; only the muters they can know differ (the pipeline sees a snapshot of the alert).
 */
export function createMute(muters: readonly Muter[]): MuteFn {
  const ordered = [...muters].sort(
    (a, b) => MuteReason.options.indexOf(a.reason) - MuteReason.options.indexOf(b.reason),
  );
  return (subject, now, announcement = 'firing') => {
    for (const muter of ordered)
      if (HOLDS_BACK[muter.reason].has(announcement) && muter.mutes(subject, now))
        return { muted: true, reason: muter.reason };
    return NOT_MUTED;
  };
}
