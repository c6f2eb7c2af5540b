import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { jetstreamClient, ManualClock, publishDurable, streamNames, Subjects } from '../../shared/index.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { RecordingSink, until } from './nats-harness.ts';

const HOUR = 3_600_000;

describe('collector replay on a real nats-server: transitions carry their events’ time', () => {
  const bed = useCollectorBed();
  const { server } = bed;

  it('events stored while the collector was down: startsAt/endsAt are their store times, not the replay', async () => {
    const own = new Subjects('replaytime');
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: 'replaytime' },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      // An hour late is inside this window: told, with the events' times (replay-quiet.test.ts: beyond it).
      replay: { announce_within: '2h' },
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    const clock = new ManualClock(Date.now());
    const script = new EventScript(clock);
    const js = jetstreamClient(bed.nc);

    const first = new RecordingSink();
    let collector = await bed.start(config, { clock, sink: first });
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 10));
    await until(() => collector.engine.state.streamSeq === 1, 'the healthy sample to be evaluated');
    await bed.stop();

    // While it is down: the disk fills and is cleaned up again.
    const breach = await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 95));
    const clear = await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 50));
    const jsm = await jetstreamManager(bed.nc);
    const storedAt = async (seq: number) =>
      (await jsm.streams.getMessage(streamNames(own).events, { seq }))!.time.getTime();
    const breachAt = await storedAt(breach.seq);
    const clearAt = await storedAt(clear.seq);

    clock.advance(HOUR); // started again an hour later: everything after the checkpoint is replayed
    const again = new RecordingSink();
    collector = await bed.start(config, { clock, sink: again });
    await again.waitForCount(2);
    await until(() => collector.engine.state.streamSeq === clear.seq, 'the replay to finish');
    await collector.idle();
    assert.deepEqual(again.lines(), ['firing web1 disk critical g1', 'resolved web1 disk critical g1']);
    const [firing, resolved] = again.submitted.map((s) => s.alert);
    assert.equal(firing!.startsAt, breachAt, `startsAt is the breach (replayed at ${clock.now()})`);
    assert.equal(resolved!.startsAt, breachAt);
    assert.equal(resolved!.endsAt, clearAt, 'endsAt is when the disk was cleaned up');
    assert.equal(first.submitted.length, 0);
    assert.equal(collector.engine.hosts().get('web1')!.lastEventAt, clearAt);
  });
});
