import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createRegistry } from '../../shared/index.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { RecordingSink } from './nats-harness.ts';
import { DISK, HOUR, replaySetup } from './replay-harness.ts';

/**
 * History replayed late (no checkpoint: a first start, a `partitions` change, a lost checkpoint bucket) is stored,
 * not told (collector/alerts/replay-window.ts). History is judged against the head of EVENTS in the NATS server's
 * clock, not against the collector's: here it is made for real, with a short window (100ms) and events stored after
 * it for longer than that, so the head is newer than the history by more than the window. The collector's clock is
 * set hours off the server's in each case: it must not change what is told.
 */
describe('collector replay on a real nats-server: history older than replay.announce_within is not told', () => {
  const bed = useCollectorBed();
  const setup = (prefix: string, options: Parameters<typeof replaySetup>[2] = {}) => replaySetup(bed, prefix, options);

  it('a breach and its clear older than the window, no checkpoint: stored, not told, counted', async () => {
    const t = await setup('rquiet1');
    const breach = await t.disk(95);
    const clear = await t.disk(50);
    const [breachAt, clearAt] = [await t.storedAt(breach.seq), await t.storedAt(clear.seq)];
    const head = await t.history(clear.seq);
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const running = await t.start(sink, registry);
    await t.evaluated(head.seq);
    assert.deepEqual(sink.lines(), [], 'nobody is told of a breach older than the window and over');
    assert.equal(await t.alertsPublished(), 0, 'nothing on ALERTS: the gateway phones nobody');
    const record = await t.stored();
    assert.equal(record.alert.status, 'resolved');
    assert.equal(record.alert.startsAt, breachAt);
    assert.equal(record.alert.endsAt, clearAt);
    assert.equal(record.quiet, true);
    assert.equal(record.announced, null);
    assert.equal(running.engine.records.get(DISK)!.alert.status, 'resolved');
    const metrics = await registry.metrics();
    assert.match(metrics, /offhook_collector_quiet_transitions_total\{status="firing",process="collector"\} 1\n/);
    assert.match(metrics, /offhook_collector_quiet_transitions_total\{status="resolved",process="collector"\} 1\n/);
  });

  it('a breach from history still breaching in a recent event: told once, with the old startsAt', async () => {
    const t = await setup('rquiet2');
    const breach = await t.disk(95);
    const breachAt = await t.storedAt(breach.seq);
    const head = await t.history(breach.seq);
    const sink = new RecordingSink();
    await t.start(sink);
    await t.evaluated(head.seq);
    assert.deepEqual(sink.lines(), [], 'not told while the replay reads history (fails without the window)');
    assert.equal((await t.stored()).quiet, true);

    const still = await t.disk(96);
    await sink.waitForCount(1);
    await t.evaluated(still.seq);
    assert.deepEqual(sink.lines(), ['firing web1 disk critical g1']);
    assert.equal(sink.submitted[0]!.alert.startsAt, breachAt, 'startsAt is the breach, not the recent event');
    assert.equal(await t.alertsPublished(), 1);
    assert.equal((await t.stored()).quiet, false);
  });

  it('a restart between the quiet store and the recent event: told exactly once, not again after another', async () => {
    const t = await setup('rquiet3');
    const breach = await t.disk(95);
    const breachAt = await t.storedAt(breach.seq);
    const head = await t.history(breach.seq);
    const first = new RecordingSink();
    await t.start(first);
    await t.evaluated(head.seq);
    await t.stop();
    assert.deepEqual(first.lines(), [], 'fails without the window');
    assert.equal((await t.stored()).quiet, true, 'the record says nobody was told');

    const second = new RecordingSink();
    await t.start(second);
    const still = await t.disk(96);
    await second.waitForCount(1);
    await t.evaluated(still.seq);
    assert.deepEqual(second.lines(), ['firing web1 disk critical g1'], 'a restart does not lose it');
    assert.equal(second.submitted[0]!.alert.startsAt, breachAt);
    await t.stop();

    const third = new RecordingSink();
    await t.start(third);
    const again = await t.disk(97);
    await t.evaluated(again.seq);
    assert.deepEqual(third.lines(), [], 'nor repeats it');
    assert.equal(await t.alertsPublished(), 1);
  });

  it('our clock an hour ahead of the NATS server: a live breach is told, the skew shown and warned of', async () => {
    const t = await setup('rquiet4', { skewMs: HOUR, within: '15m' });
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const lines: string[] = [];
    await t.start(sink, registry, pino({ level: 'info' }, { write: (line: string) => lines.push(line) }));
    const breach = await t.disk(95);
    await t.evaluated(breach.seq);
    assert.deepEqual(sink.lines(), ['firing web1 disk critical g1'], 'live is never history, whatever our clock says');
    assert.equal((await t.stored()).quiet, false);
    assert.equal(await t.alertsPublished(), 1, 'on ALERTS: the gateway calls');

    const skew = /offhook_collector_clock_skew_seconds\{process="collector"\} (\S+)\n/.exec(await registry.metrics());
    assert.ok(skew, 'the skew gauge is exported');
    // An hour, less the seconds this test has run (our clock stands still, the server's does not).
    assert.ok(Math.abs(Number(skew[1]) - 3600) < 60, `skew ${skew[1]} s`);
    const warned = () => lines.filter((line) => line.includes('differs from the NATS server clock'));
    t.clock.advance(1000); // a tick: where the skew is looked at
    t.clock.advance(1000);
    assert.equal(warned().length, 1, 'warned once per crossing, not at every tick');
    assert.match(warned()[0]!, /"level":40/);
  });
});
