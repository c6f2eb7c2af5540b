import assert from 'node:assert/strict';
import { fingerprint, ManualClock } from '../../../shared/index.ts';
import type { AlertEngine } from '../../../collector/alerts/engine.ts';
import type { AgentEvent } from '../../../collector/rules/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const disk = { name: 'disk', kind: 'threshold', metric: 'disk_used', warn: 80, crit: 90 };
const burst = { name: 'oom', kind: 'log', within: '1d' };

/** Hands the engine events as the stream feed does: each with its store time (agent `ts` = store time). */
function feeder(engine: AlertEngine) {
  let seq = 0;
  const script = new EventScript(new ManualClock());
  return (storedAt: number, make: (s: EventScript) => AgentEvent): boolean =>
    engine.handleEvent({ ...make(script), ts: storedAt }, ++seq, storedAt);
}

/** Edges of collector/alerts/replay-window.ts (the default 15m window); the real-NATS cases: replay-quiet.test.ts. */
describe('collector engine: what a replay of history older than replay.announce_within tells', () => {
  it('the resolution of a firing people were told is told however old: it ends their page', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([disk], { clock });
    const feed = feeder(engine);
    const t0 = clock.now();
    feed(t0, (s) => s.resource('web1', 'disk_used', 95));
    assert.deepEqual(output.take(), ['firing web1 disk critical g1'], 'live: told');
    clock.advance(3 * HOUR); // down meanwhile; the clear is replayed 3 hours late
    feed(t0 + MINUTE, (s) => s.resource('web1', 'disk_used', 10));
    assert.deepEqual(output.take(), ['resolved web1 disk critical g1']);
    assert.equal(output.stored.get(fingerprint('web1', 'disk', {}))!.alert.endsAt, t0 + MINUTE);
  });

  it('a quiet firing that resolves inside the window: neither its firing nor its resolution is told', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([disk], { clock });
    const feed = feeder(engine);
    feed(clock.now() - HOUR, (s) => s.resource('web1', 'disk_used', 95));
    feed(clock.now() - MINUTE, (s) => s.resource('web1', 'disk_used', 10));
    assert.deepEqual(output.lines(), []);
    const record = output.stored.get(fingerprint('web1', 'disk', {}))!;
    assert.equal(record.alert.status, 'resolved');
    assert.equal(record.quiet, true);
    // The next breach, live, is a generation of its own and told.
    feed(clock.now(), (s) => s.resource('web1', 'disk_used', 95));
    assert.deepEqual(output.lines(), ['firing web1 disk critical g2']);
  });

  it('a rise replayed from history is held back, and told if the alert is still that severe when caught up', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([disk], { clock });
    const feed = feeder(engine);
    const t0 = clock.now();
    feed(t0, (s) => s.resource('web1', 'disk_used', 85));
    assert.deepEqual(output.take(), ['firing web1 disk warning g1']);
    clock.advance(3 * HOUR);
    feed(t0 + MINUTE, (s) => s.resource('web1', 'disk_used', 95));
    assert.deepEqual(output.take(), [], 'a rise 3 hours old: no fresh page');
    feed(clock.now(), (s) => s.resource('web1', 'disk_used', 96));
    assert.deepEqual(output.take(), ['repeat web1 disk critical g1'], 'still critical now: the rise is told');
  });

  it('a tick-driven rule: a log burst from history still firing is told at the first tick inside the window', () => {
    const clock = new ManualClock(10 * HOUR);
    const { engine, output } = engineFor([burst, disk], { clock });
    const feed = feeder(engine);
    const burstAt = clock.now() - 3 * HOUR;
    feed(burstAt, (s) => s.log('web1', 'oom', 'Out of memory: killed process 4242'));
    engine.tick();
    assert.deepEqual(output.lines(), [], 'event time is still 3 hours back');
    feed(clock.now(), (s) => s.resource('web2', 'disk_used', 10)); // the replay reaches the present
    engine.tick();
    assert.deepEqual(output.lines(), ['firing web1 oom warning g1']);
    assert.equal(output.announced[0]!.alert.startsAt, burstAt);
    engine.tick();
    assert.equal(output.announced.length, 1, 'told once');
  });
});
