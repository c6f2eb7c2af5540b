import type { AlertRecord } from './alert-record.ts';
import type { Moment } from './lifecycle.ts';

/** collector.yaml `replay.announce_within` when absent. */
export const DEFAULT_ANNOUNCE_WITHIN_MS = 15 * 60_000;

export type QuietStatus = 'firing' | 'resolved';

/** How the status page, its JSON, `offhook status` and the console say that nobody was told (README "Time"). */
export const UNTOLD = 'not announced: replayed history';

/**
 * What people were not told of a firing alert a replay of history held back (the status page and `offhook alerts`
 * show it beside "firing"): its firing, or its rise to its severity when they heard of the firing. Null: told as it
 * is, or not firing (a quiet generation that resolved was never told, nor its end: nothing is owed).
 */
export function untold(record: Pick<AlertRecord, 'alert' | 'announced' | 'quiet'>): string | null {
  const { alert, announced } = record;
  if (!record.quiet || alert.status !== 'firing') return null;
  const toldFiring = announced?.generation === alert.generation && announced.status === 'firing';
  return toldFiring ? `its rise to ${alert.severity} ${UNTOLD}` : UNTOLD;
}

/**
 * What a replay of history may tell. Transitions carry event time (event-time.ts), so replaying a long stretch of
 * EVENTS (a `partitions` change replays it from its start, a lost checkpoint, a first start after agents published,
 * a collector down for hours) fires and resolves every `for` breach and log burst in it with its real times. Told,
 * they would page people, and phone them, for incidents days old and long over; Prometheus never back-fills rule
 * evaluation, and neither do we: a transition whose event time is more than `withinMs` before the head of EVENTS
 * (Moment.head: the newest store time known, the server's clock; never ours, which may run hours ahead of it and
 * would make every live event history) is applied and stored (the record is marked `quiet`) but not told, and
 * reconcile() (announce.ts) tells nothing of a quiet firing. A live event is the head: never quiet. One still
 * firing when evaluation reaches events inside the window is told then, once, with its original startsAt
 * (caughtUp(): the next event of its series, or a tick for a tick-driven rule); one that resolves first is never
 * told, nor its resolution. The resolution of a firing people were told is told however old: it ends their
 * page (and the gateway's calls). Live operation and short replays (a failover, a restart of minutes) are within the
 * window and told as before. `quiet` is in the record, so a restart in between neither loses nor repeats it.
 */
export class ReplayWindow {
  constructor(
    private readonly withinMs = DEFAULT_ANNOUNCE_WITHIN_MS,
    private readonly onQuiet: (status: QuietStatus) => void = () => undefined,
    /** The head of EVENTS (intake/stream-head.ts), for a moment without its own: an event's. */
    private readonly stream: { readonly time: number } = { time: 0 },
  ) {}

  /** Whether a transition at `moment` is history: older than the newest event known (server clock) by the window. */
  past({ at, head }: Moment): boolean {
    return (head ?? this.stream.time) - at > this.withinMs;
  }

  /** A new generation fired, or a firing one rose, at `moment`: from history, held back. */
  fired(record: AlertRecord, moment: Moment): void {
    if (!this.past(moment)) return;
    record.quiet = true;
    this.onQuiet('firing');
  }

  /** It resolved: nobody hears of it if nobody heard of its firing (a rise held back is not a firing untold). */
  resolved(record: AlertRecord): void {
    if (record.quiet && record.announced?.generation !== record.alert.generation) this.onQuiet('resolved');
  }

  /** Evaluation has reached `moment` and the alert still fires: a held-back firing or rise is to be told now. */
  caughtUp(record: AlertRecord, moment: Moment): boolean {
    if (!record.quiet || record.alert.status !== 'firing' || this.past(moment)) return false;
    record.quiet = false;
    return true;
  }
}
