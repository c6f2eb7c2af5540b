import assert from 'node:assert/strict';
import { fingerprint, ManualClock } from '../../../shared/index.ts';
import type { AlertEngine } from '../../../collector/alerts/engine.ts';
import { StreamHead } from '../../../collector/intake/index.ts';
import type { AgentEvent } from '../../../collector/rules/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const disk = { name: 'disk', kind: 'threshold', metric: 'disk_used', warn: 80, crit: 90 };
const slowDisk = { ...disk, for: '1m' };
const burst = { name: 'oom', kind: 'log', within: '1d' };

/**
 * Hands the engine events as the stream feed does (group/partition-feeds.ts): each with its store time, and the
 * messages JetStream says are still to be delivered after it (`pending`, 0: it is the head).
 */
function feeder(engine: AlertEngine, head: StreamHead) {
  let seq = 0;
  const script = new EventScript(new ManualClock());
  return (storedAt: number, make: (s: EventScript) => AgentEvent, pending = 0): boolean => {
    head.delivered(++seq, storedAt, pending);
    return engine.handleEvent({ ...make(script), ts: storedAt }, seq, storedAt);
  };
}

/**
 * Our clock is 2 hours ahead of the NATS server's here (t0 is server time): history is judged against the head of
 * EVENTS, in the server's clock. Edges of collector/alerts/replay-window.ts (the default 15m window); the real-NATS
 * cases: replay-quiet.test.ts.
 */
describe('collector engine: what a replay of history older than replay.announce_within tells', () => {
  const t0 = 10 * HOUR;
  const setup = (rules: unknown[]) => {
    const clock = new ManualClock(t0 + 2 * HOUR);
    const head = new StreamHead(clock);
    const { engine, output } = engineFor(rules, { clock, head });
    return { clock, head, engine, output, feed: feeder(engine, head) };
  };

  it('the resolution of a firing people were told is told however old: it ends their page', () => {
    const { head, output, feed } = setup([disk]);
    feed(t0, (s) => s.resource('web1', 'disk_used', 95));
    assert.deepEqual(output.take(), ['firing web1 disk critical g1'], 'live: told');
    head.observed(3, t0 + 3 * HOUR); // down meanwhile: the clear is replayed with 3 hours of EVENTS after it
    feed(t0 + MINUTE, (s) => s.resource('web1', 'disk_used', 10), 1);
    assert.deepEqual(output.take(), ['resolved web1 disk critical g1']);
    assert.equal(output.stored.get(fingerprint('web1', 'disk', {}))!.alert.endsAt, t0 + MINUTE);
  });

  it('a quiet firing (history, untold) holds back no live alert through inhibit_rules', () => {
    const clock = new ManualClock(t0 + 2 * HOUR);
    const head = new StreamHead(clock);
    const load = { name: 'load', kind: 'threshold', metric: 'node_load1', warn: 5 };
    const inhibit_rules = [{ source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'] }];
    const { engine, output } = engineFor([disk, load], { clock, head, inhibit_rules });
    const feed = feeder(engine, head);
    head.observed(3, t0);
    feed(t0 - HOUR, (s) => s.resource('web1', 'disk_used', 95), 2);
    assert.equal(output.stored.get(fingerprint('web1', 'disk', {}))!.quiet, true, 'precondition: the source is quiet');
    feed(t0, (s) => s.resource('web2', 'node_load1', 9));
    assert.deepEqual(output.take(), ['firing web2 load warning g1'], 'the live alert is told');
    assert.equal(output.stored.get(fingerprint('web2', 'load', {}))!.alert.inhibited, false);
  });

  it('a quiet firing that resolves inside the window: neither its firing nor its resolution is told', () => {
    const { head, output, feed } = setup([disk]);
    head.observed(3, t0); // the stream's last event, as the feed opens
    feed(t0 - HOUR, (s) => s.resource('web1', 'disk_used', 95), 2);
    feed(t0 - MINUTE, (s) => s.resource('web1', 'disk_used', 10), 1);
    assert.deepEqual(output.lines(), []);
    const record = output.stored.get(fingerprint('web1', 'disk', {}))!;
    assert.equal(record.alert.status, 'resolved');
    assert.equal(record.quiet, true);
    // The next breach, live, is a generation of its own and told.
    feed(t0, (s) => s.resource('web1', 'disk_used', 95));
    assert.deepEqual(output.lines(), ['firing web1 disk critical g2']);
  });

  it('a rise replayed from history is held back, and told if the alert is still that severe when caught up', () => {
    const { head, output, feed } = setup([disk]);
    feed(t0, (s) => s.resource('web1', 'disk_used', 85));
    assert.deepEqual(output.take(), ['firing web1 disk warning g1']);
    head.observed(3, t0 + 3 * HOUR);
    feed(t0 + MINUTE, (s) => s.resource('web1', 'disk_used', 95), 1);
    assert.deepEqual(output.take(), [], 'a rise 3 hours before the head: no fresh page');
    feed(t0 + 3 * HOUR, (s) => s.resource('web1', 'disk_used', 96));
    assert.deepEqual(output.take(), ['repeat web1 disk critical g1'], 'still critical at the head: the rise is told');
  });

  it('a tick-driven rule: a log burst from history still firing is told at the first tick at the head', () => {
    const { head, engine, output, feed } = setup([burst, disk]);
    head.observed(2, t0);
    const burstAt = t0 - 3 * HOUR;
    feed(burstAt, (s) => s.log('web1', 'oom', 'Out of memory: killed process 4242'), 1);
    engine.tick();
    assert.deepEqual(output.lines(), [], 'a tick mid-replay: event time is still 3 hours behind the head');
    feed(t0, (s) => s.resource('web2', 'disk_used', 10)); // the replay reaches the head
    engine.tick();
    assert.deepEqual(output.lines(), ['firing web1 oom warning g1']);
    assert.equal(output.announced[0]!.alert.startsAt, burstAt);
    engine.tick();
    assert.equal(output.announced.length, 1, 'told once');
  });

  it('our clock hours ahead: a `for` that elapses at a tick with nothing pending is live, and told', () => {
    const { clock, engine, output, feed } = setup([slowDisk]);
    feed(t0, (s) => s.resource('web1', 'disk_used', 95));
    clock.advance(MINUTE);
    engine.tick();
    assert.deepEqual(output.lines(), ['firing web1 disk critical g1'], 'fails if our clock decides');
    assert.equal(output.announced[0]!.alert.startsAt, t0 + MINUTE);
  });

  it('a `for` that elapses at a tick mid-replay, hours behind the head: stored, not told', () => {
    const { clock, head, engine, output, feed } = setup([slowDisk]);
    head.observed(2, t0);
    feed(t0 - 3 * HOUR, (s) => s.resource('web1', 'disk_used', 95), 1);
    clock.advance(MINUTE);
    engine.tick();
    assert.deepEqual(output.lines(), []);
    assert.equal(output.stored.get(fingerprint('web1', 'disk', {}))!.quiet, true);
  });
});
