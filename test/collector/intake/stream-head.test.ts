import assert from 'node:assert/strict';
import { pino } from 'pino';
import { ManualClock } from '../../../shared/index.ts';
import { StreamHead } from '../../../collector/intake/index.ts';

const MINUTE = 60_000;

/** Where EVENTS ends in the server's clock, and how far our clock is from it (collector/intake/stream-head.ts). */
describe('collector intake: the head of EVENTS', () => {
  it('a replay is behind the head until its position reaches the last sequence known; a tick then is the head', () => {
    const head = new StreamHead(new ManualClock());
    head.observed(10, 5_000); // stream info as the feed opens
    head.delivered(3, 1_000, 7);
    assert.equal(head.at(1_000, 3), 5_000, 'mid-replay: the head is the stream info’s last message');
    head.delivered(10, 5_000, 0);
    assert.equal(head.at(5_300, 10), 5_300, 'caught up: a tick is at the head, whatever time it carries');
    head.delivered(11, 6_000, 4); // a burst: more pending
    assert.equal(head.seq, 15);
    assert.equal(head.at(6_000, 11), 6_000);
    assert.equal(head.at(5_000, 11), 6_000, 'behind it: the newest store time known');
  });

  it('a recreated stream (its last sequence below ours) is believed: nothing waits for the old sequence', () => {
    const head = new StreamHead(new ManualClock());
    head.delivered(1000, 9_000, 0);
    head.observed(2, 9_500);
    assert.equal(head.seq, 2);
    assert.equal(head.at(9_200, 2), 9_200, 'a tick of a partition at the new stream’s end is at the head');
  });

  it('skew: our clock minus store times of live deliveries, the smallest of the last five; warned once', () => {
    const clock = new ManualClock(100 * MINUTE);
    const head = new StreamHead(clock);
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    assert.equal(head.skewMs(), null, 'unknown before a live delivery');
    head.observed(5, 40 * MINUTE);
    head.delivered(1, 10 * MINUTE, 4); // a replay: not live, no sample
    assert.equal(head.skewMs(), null);
    // Our clock is an hour ahead. A reconnect's backlog of one, stored 10 minutes before it came, then a live one.
    head.delivered(6, 30 * MINUTE, 0);
    head.delivered(7, 40 * MINUTE, 0);
    assert.equal(head.skewMs(), 60 * MINUTE);
    head.checkSkew(logger);
    head.checkSkew(logger);
    for (let seq = 8; seq <= 12; seq++) head.delivered(seq, 100 * MINUTE - 200, 0); // clock fixed: back to 200 ms
    assert.equal(head.skewMs(), 200, 'the hour is out of the last five samples');
    head.checkSkew(logger);
    const messages = lines.map((line) => JSON.parse(line) as { level: number; msg: string; skewSeconds: number });
    assert.deepEqual(
      messages.map((m) => [m.level, m.skewSeconds]),
      [
        [40, 3600],
        [30, 0],
      ],
    );
  });
});
