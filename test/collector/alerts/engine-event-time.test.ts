import assert from 'node:assert/strict';
import { ManualClock } from '../../../shared/index.ts';
import type { AlertEngine } from '../../../collector/alerts/engine.ts';
import type { AgentEvent } from '../../../collector/rules/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

const HOUR = 3_600_000;
const load = { name: 'load', kind: 'threshold', metric: 'load', crit: 10, for: '5m' };
const disk = { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 };
// These replays are an hour old: inside the window, so told (engine-replay-window.test.ts: beyond it).
const withinTwoHours = { announce_within: '2h' };

/**
 * Events stored in EVENTS before the engine reads them (a restart, a partition taken over): each is handed over with
 * its store time, as the stream feed does, while the engine's clock reads later. Agent `ts` = store time.
 */
function replayer(engine: AlertEngine, storedFrom: number, afterSeq = 0) {
  let seq = afterSeq;
  const script = new EventScript(new ManualClock(storedFrom));
  /** An event stored `offsetMs` after `storedFrom`, read now. */
  return (offsetMs: number, make: (s: EventScript) => AgentEvent): boolean =>
    engine.handleEvent({ ...make(script), ts: storedFrom + offsetMs }, ++seq, storedFrom + offsetMs);
}

describe('collector engine: a replayed transition carries the time its event was stored', () => {
  it('firing and resolution of replayed events: startsAt/endsAt are the events’ store times, not the replay’s', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([disk], { clock, replay: withinTwoHours });
    const t0 = clock.now() - HOUR;
    const replay = replayer(engine, t0);
    replay(0, (s) => s.resource('web1', 'disk_used', 95));
    clock.advance(5); // the replay reads on; the stored times are what counts
    replay(40_000, (s) => s.resource('web1', 'disk_used', 50));
    assert.deepEqual(output.lines(), ['firing web1 disk critical g1', 'resolved web1 disk critical g1']);
    const [firing, resolved] = output.announced.map((e) => e.alert);
    assert.equal(firing!.startsAt, t0);
    assert.equal(resolved!.startsAt, t0);
    assert.equal(resolved!.endsAt, t0 + 40_000);
    const record = output.stored.values().next().value!;
    assert.equal(record.updatedAt, clock.now(), 'the record itself changed now');
  });

  it('`for` measures the time between replayed events, and a tick mid-replay fires nothing early', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([load], { clock, replay: withinTwoHours });
    const t0 = clock.now() - HOUR;
    const replay = replayer(engine, t0);
    // Breach at t0 and cleared a minute later: it never lasted 5 minutes, so a replay must not fire it, even when a
    // tick (our clock an hour past t0) comes between the two replayed events.
    replay(0, (s) => s.resource('web2', 'load', 50));
    engine.tick();
    replay(60_000, (s) => s.resource('web2', 'load', 1));
    engine.tick();
    assert.deepEqual(output.take(), []);
    // Breached from t0 + 2m for 5 minutes: fires at the event 5 minutes in, with that event's time.
    for (let minute = 2; minute <= 7; minute++) {
      replay(minute * 60_000, (s) => s.resource('web1', 'load', 50));
      engine.tick();
    }
    assert.equal(output.lines().join(), 'firing web1 load critical g1');
    assert.equal(output.announced[0]!.alert.startsAt, t0 + 7 * 60_000);
  });

  it('never moves backwards: an event stored earlier than one already evaluated takes the later time', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([disk], { clock, replay: withinTwoHours });
    const t0 = clock.now() - HOUR;
    const replay = replayer(engine, t0);
    replay(10_000, (s) => s.resource('web1', 'disk_used', 95));
    replay(0, (s) => s.resource('web1', 'disk_used', 50)); // another stream leader with a slower clock
    const [firing, resolved] = output.announced.map((e) => e.alert);
    assert.equal(firing!.startsAt, t0 + 10_000);
    assert.equal(resolved!.endsAt, t0 + 10_000);
  });

  it('the checkpoint keeps event time: a restored `for` timer is not fired by the restarted clock', () => {
    const rules = [load];
    const clock = new ManualClock(10 * HOUR);
    const first = engineFor(rules, { clock, replay: withinTwoHours });
    const t0 = clock.now();
    replayer(first.engine, t0)(0, (s) => s.resource('web1', 'load', 50));
    const checkpoint = JSON.parse(JSON.stringify(first.engine.state.snapshot(first.engine.rules)));

    clock.advance(HOUR); // down for an hour; what was stored meanwhile is replayed now
    const second = engineFor(rules, { clock, replay: withinTwoHours });
    second.engine.load([...first.output.stored.values()], checkpoint);
    second.engine.tick();
    assert.deepEqual(second.output.take(), [], 'the replay has not reached t0 + 5m yet');
    replayer(second.engine, t0, 1)(300_000, (s) => s.resource('web1', 'load', 50));
    assert.deepEqual(second.output.lines(), ['firing web1 load critical g1']);
    assert.equal(second.output.announced[0]!.alert.startsAt, t0 + 300_000);
  });

  it('host liveness stays on our clock: heartbeats during a replay do not make the replayed host look down', () => {
    const clock = new ManualClock(10 * HOUR);
    const rules = [disk, { name: 'host_down', kind: 'host_down', missed_heartbeats: 6 }];
    const { engine, output } = engineFor(rules, { clock, replay: withinTwoHours });
    const beats = new EventScript(clock);
    const t0 = clock.now() - HOUR;
    const replay = replayer(engine, t0);
    engine.handleHeartbeat(beats.heartbeat('web1', 20_000));
    replay(0, (s) => s.resource('web1', 'disk_used', 10));
    engine.handleHeartbeat(beats.heartbeat('web1', 20_000)); // live, while the replay is an hour behind
    engine.tick();
    replay(HOUR, (s) => s.resource('web1', 'disk_used', 10)); // caught up: event time jumps an hour
    engine.tick();
    assert.deepEqual(output.take(), []);
    clock.advance(6 * 20_000 + 1);
    engine.tick();
    assert.deepEqual(output.lines(), ['firing web1 host_down critical g1']);
    assert.equal(output.announced[0]!.alert.startsAt, clock.now());
  });

  it('a stalled feed: its backlog keeps its store times; an alert fired by a tick meanwhile never ends early', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([load, disk], { clock });
    const t0 = clock.now();
    const replay = replayer(engine, t0);
    replay(0, (s) => s.resource('web1', 'load', 50));
    clock.advance(300_000); // nothing arrives (a reconnect): the `for` elapses on our clock
    engine.tick();
    replay(240_000, (s) => s.resource('web2', 'disk_used', 95)); // the backlog: stored a minute before that tick
    replay(250_000, (s) => s.resource('web1', 'load', 1));
    assert.deepEqual(output.lines(), [
      'firing web1 load critical g1',
      'firing web2 disk critical g1',
      'resolved web1 load critical g1',
    ]);
    const [load1, disk2, resolved] = output.announced.map((e) => e.alert);
    assert.equal(load1!.startsAt, t0 + 300_000);
    assert.equal(disk2!.startsAt, t0 + 240_000, 'the backlog event’s own store time');
    assert.equal(resolved!.endsAt, t0 + 300_000, 'not before it started');
  });

  it('a tick’s event time is whole milliseconds though the monotonic clock has fractions (EpochMs on the wire)', () => {
    const clock = new ManualClock(10 * HOUR);
    let fraction = 0;
    clock.monotonic = () => clock.now() + (fraction += 0.3); // as performance.now() does
    const { engine, output } = engineFor([load], { clock, replay: withinTwoHours });
    replayer(engine, clock.now())(0, (s) => s.resource('web1', 'load', 50));
    clock.advance(300_000);
    engine.tick();
    assert.deepEqual(output.lines(), ['firing web1 load critical g1']);
    assert.ok(Number.isInteger(output.announced[0]!.alert.startsAt), String(output.announced[0]!.alert.startsAt));
  });
});
