import assert from 'node:assert/strict';
import { fingerprint } from '../../shared/index.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { RecordingSink } from './nats-harness.ts';
import { DISK, HOUR, replaySetup } from './replay-harness.ts';

const LOAD = fingerprint('web1', 'load', {});

/**
 * What follows a quiet alert (replayed history, stored and not told: collector/alerts/replay-window.ts) on a real
 * nats-server: inhibition once it is told at catch-up, and how the pages, the APIs and the metrics show it meanwhile.
 */
describe('collector replay on a real nats-server: after a quiet alert', () => {
  const bed = useCollectorBed();
  const setup = (prefix: string, options: Parameters<typeof replaySetup>[2] = {}) => replaySetup(bed, prefix, options);

  it('a quiet inhibit source told at catch-up inhibits a target already told: its repeats stop', async () => {
    const t = await setup('rshown1', {
      config: {
        rules: [
          { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 },
          { name: 'load', kind: 'threshold', metric: 'node_load1', warn: 5 },
        ],
        inhibit_rules: [
          { source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'], equal: ['host'] },
        ],
        defaults: { repeat_interval: '1h' },
      },
    });
    const breach = await t.disk(95);
    const head = await t.history(breach.seq);
    const sink = new RecordingSink();
    const running = await t.start(sink);
    await t.evaluated(head.seq);
    assert.equal((await t.stored()).quiet, true, 'precondition: the source is quiet');

    const load = await t.metric('node_load1', 9);
    await sink.waitForCount(1);
    await t.evaluated(load.seq);
    assert.deepEqual(sink.lines(), ['firing web1 load warning g1'], 'an untold source inhibits nothing');

    const still = await t.disk(96);
    await sink.waitForCount(2);
    await t.evaluated(still.seq);
    assert.deepEqual(sink.lines().slice(1), ['firing web1 disk critical g1'], 'the source is told at catch-up');
    assert.equal(running.engine.records.get(LOAD)!.alert.inhibited, true, 'the target is inhibited from now on');
    assert.equal((await t.stored(LOAD)).alert.inhibited, true, 'and stored so');

    // As in Alertmanager, inhibition is judged when a notification is due: the target's repeat is held back.
    t.clock.advance(HOUR + 1000);
    await sink.waitForCount(3);
    await running.idle();
    assert.deepEqual(sink.lines().slice(2), ['repeat web1 disk critical g1'], 'no repeat of the inhibited target');
    assert.equal(running.engine.records.get(DISK)!.alert.inhibited, false);
  });
});
