import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createRegistry,
  ensureStreams,
  fingerprint,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  type Registry,
  silentLogger,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { AlertRecord } from '../../collector/alerts/alert-record.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { startCollector, type RunningCollector } from '../../collector/service.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { RecordingSink, until } from './nats-harness.ts';

const HOUR = 3_600_000;
const DISK = fingerprint('web1', 'disk', {});

/**
 * History replayed hours late (no checkpoint: a first start, a `partitions` change, a lost checkpoint bucket) is
 * stored, not told (collector/alerts/replay-window.ts). The NATS server stores events at its real time; the
 * collector's clock is set hours ahead of it, so what is stored reads as hours old, and set back to the server's
 * time for "evaluation has reached recent events".
 */
describe('collector replay on a real nats-server: history older than replay.announce_within is not told', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  let collector: RunningCollector | undefined;
  before(async () => {
    nc = await connectTo(server);
  });
  afterEach(async () => {
    await collector?.stop();
    collector = undefined;
  });
  after(async () => {
    await nc.drain();
  });

  async function setup(prefix: string) {
    const own = new Subjects(prefix);
    await ensureStreams(nc, own); // as an agent does: it may publish before any collector ran
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    const clock = new ManualClock(Date.now());
    const script = new EventScript(clock);
    const js = jetstreamClient(nc);
    const disk = (value: number) =>
      publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', value));
    const start = async (sink: RecordingSink, registry: Registry = createRegistry('collector')) => {
      collector = await startCollector(config, { logger: silentLogger(), registry, clock, sink });
      return collector;
    };
    const stop = async () => {
      await collector!.stop();
      collector = undefined;
    };
    const storedAt = async (seq: number) => {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.getMessage(streamNames(own).events, { seq }))!.time.getTime();
    };
    const alertsPublished = async () =>
      (await (await jetstreamManager(nc)).streams.info(streamNames(own).alerts)).state.messages;
    /** Evaluation has gone through stream sequence `seq` and everything it committed is written and handed on. */
    const evaluated = async (seq: number) => {
      await until(() => collector!.engine.state.streamSeq >= seq, `event ${seq} to be evaluated`);
      await collector!.idle();
    };
    const stored = async () => {
      const kv = await openBucket(nc, own, 'alerts');
      return AlertRecord.parse((await kv.get(DISK))!.json());
    };
    /** The collector's clock back at the server's: evaluation now reads events stored moments ago. */
    const backToServerTime = () => clock.advance(Date.now() - clock.now());
    return { clock, disk, start, stop, storedAt, alertsPublished, evaluated, stored, backToServerTime };
  }

  it('a breach and its clear hours old, no checkpoint: stored, not told, counted', async () => {
    const t = await setup('rquiet1');
    const breach = await t.disk(95);
    const clear = await t.disk(50);
    const [breachAt, clearAt] = [await t.storedAt(breach.seq), await t.storedAt(clear.seq)];
    t.clock.advance(3 * HOUR);
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const running = await t.start(sink, registry);
    await t.evaluated(clear.seq);
    assert.deepEqual(sink.lines(), [], 'nobody is told of a breach 3 hours old and over');
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

  it('a breach hours old still breaching in a recent event: told once, with the old startsAt', async () => {
    const t = await setup('rquiet2');
    const breach = await t.disk(95);
    const breachAt = await t.storedAt(breach.seq);
    t.clock.advance(3 * HOUR);
    const sink = new RecordingSink();
    await t.start(sink);
    await t.evaluated(breach.seq);
    assert.deepEqual(sink.lines(), [], 'not told while the replay reads history (fails without the window)');
    assert.equal((await t.stored()).quiet, true);

    t.backToServerTime();
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
    t.clock.advance(3 * HOUR);
    const first = new RecordingSink();
    await t.start(first);
    await t.evaluated(breach.seq);
    await t.stop();
    assert.deepEqual(first.lines(), [], 'fails without the window');
    assert.equal((await t.stored()).quiet, true, 'the record says nobody was told');

    t.backToServerTime();
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
});
