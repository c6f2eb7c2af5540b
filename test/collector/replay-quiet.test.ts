import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { type Logger, pino } from 'pino';
import {
  createRegistry,
  ensureStreams,
  fingerprint,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  type Registry,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { AlertRecord } from '../../collector/alerts/alert-record.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { RecordingSink, until } from './nats-harness.ts';

const HOUR = 3_600_000;
const DISK = fingerprint('web1', 'disk', {});

/**
 * History replayed late (no checkpoint: a first start, a `partitions` change, a lost checkpoint bucket) is stored,
 * not told (collector/alerts/replay-window.ts). History is judged against the head of EVENTS in the NATS server's
 * clock, not against the collector's: here it is made for real, with a short window (100ms) and events stored after
 * it for longer than that, so the head is newer than the history by more than the window. The collector's clock is
 * set hours off the server's in each case: it must not change what is told.
 */
describe('collector replay on a real nats-server: history older than replay.announce_within is not told', () => {
  const bed = useCollectorBed();
  const { server } = bed;

  /** `skewMs`: how far the collector's clock is ahead of the server's; `within`: replay.announce_within. */
  async function setup(prefix: string, { skewMs = 3 * HOUR, within = '100ms' } = {}) {
    const own = new Subjects(prefix);
    await ensureStreams(bed.nc, own); // as an agent does: it may publish before any collector ran
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      replay: { announce_within: within },
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    const clock = new ManualClock(Date.now() + skewMs);
    const script = new EventScript(new ManualClock(Date.now())); // the agents' clocks are right
    const js = jetstreamClient(bed.nc);
    const disk = (value: number, host = 'web1') =>
      publishDurable(js, own.event(host, 'resource'), script.resource(host, 'disk_used', value));
    const start = (sink: RecordingSink, registry?: Registry, logger?: Logger) =>
      bed.start(config, { logger, registry, clock, sink });
    const storedAt = async (seq: number) => {
      const jsm = await jetstreamManager(bed.nc);
      return (await jsm.streams.getMessage(streamNames(own).events, { seq }))!.time.getTime();
    };
    const alertsPublished = async () =>
      (await (await jetstreamManager(bed.nc)).streams.info(streamNames(own).alerts)).state.messages;
    /** Evaluation has gone through stream sequence `seq` and everything it committed is written and handed on. */
    const evaluated = async (seq: number) => {
      await until(() => bed.collector!.engine.state.streamSeq >= seq, `event ${seq} to be evaluated`);
      await bed.collector!.idle();
    };
    const stored = async () => {
      const kv = await openBucket(bed.nc, own, 'alerts');
      return AlertRecord.parse((await kv.get(DISK))!.json());
    };
    /**
     * Makes what is stored so far history: another host's events until one is stored more than the window after
     * `seq` (the head of EVENTS is then that much newer). Waits for real time to pass, not a guess at it.
     */
    const history = async (seq: number) => {
      const before = await storedAt(seq);
      const windowMs = config.replay.announce_within;
      for (;;) {
        await until(() => Date.now() - before > windowMs, 'the window to pass');
        const later = await disk(10, 'web2');
        if ((await storedAt(later.seq)) - before > windowMs) return later;
      }
    };
    return { clock, disk, start, stop: bed.stop, storedAt, alertsPublished, evaluated, stored, history };
  }

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
