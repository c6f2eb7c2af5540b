import type { Clock } from '../../shared/index.ts';

/**
 * When the engine's events happened: the EVENTS stream's store time of the event being evaluated. Why not our clock:
 * a replay (after a restart, or of a partition taken over from its checkpoint) or a backlog (a feed stalled by a
 * reconnect) evaluates events stored seconds to hours ago, and an alert's startsAt/endsAt must say when the breach
 * happened, not when we read it; a `for` timer must measure the time between the events, or a replay delays the
 * firing by up to a whole `for`. Why not the agent's `ts`: agents' clocks drift (the intake gate only bounds them),
 * while the store time is one clock, the NATS server's, as Alertmanager's startsAt is one evaluator's clock. Live,
 * all three are within milliseconds.
 *
 * Between events (ticks: a `for` timer elapsing, a log window sliding) it is the last event's time carried forward by
 * our clock's elapsed time (monotonic: a wall-clock step does not move it), not our clock itself: during a replay
 * our clock is far ahead of the events, and a `for` timer started by a replayed event would fire on the next tick
 * although the replay has not yet reached the event that cleared it. An event stored earlier than one already
 * evaluated (another stream leader with a slower clock) takes the later time: event time never moves backwards from
 * event to event.
 */
export class EventTime {
  /** Event time of the last event evaluated; 0 before the first one. */
  private last = 0;
  /** Our monotonic clock when it was evaluated. */
  private seenAt = 0;

  /** Event time now, between events; before any event (nothing to measure against yet), our clock. */
  at(clock: Clock): number {
    // Whole milliseconds: alert times are integers on the wire (EpochMs), and monotonic() has fractions.
    return this.last === 0 ? clock.now() : this.last + Math.max(0, Math.floor(clock.monotonic() - this.seenAt));
  }

  /** An event JetStream stored at `storedAt` is evaluated now: the time its transitions carry. */
  advance(storedAt: number, clock: Clock): number {
    this.last = Math.max(this.last, storedAt);
    this.seenAt = clock.monotonic();
    return this.last;
  }

  snapshot(): number {
    return this.last;
  }

  /** From a checkpoint (absent in older ones: the first replayed event sets it). */
  restore(saved: unknown, clock: Clock): void {
    if (typeof saved !== 'number' || !Number.isFinite(saved) || saved <= 0) return;
    this.last = saved;
    this.seenAt = clock.monotonic();
  }
}
