import assert from 'node:assert/strict';
import type { KV } from '@nats-io/kv';
import {
  ensureStreams,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  Subjects,
} from '../../shared/index.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { RecordingSink, until } from './nats-harness.ts';

const FOR_MS = 300_000;

/**
 * A checkpoint is several KV keys (one per rule, then the engine's own, written last). A collector killed between
 * those writes (kill -9 of a group member, seen in the three-node cluster test under load) leaves rule keys of the
 * new checkpoint beside the engine key of the one before. Replaying EVENTS from there must give the same alerts as if
 * the collector had never stopped: a `for` timer started, or stopped, by an event that only the rule key covers is
 * not lost, nor brought back.
 */
describe('a checkpoint torn by a kill between its KV writes', () => {
  const bed = useCollectorBed();
  const { server } = bed;

  /**
   * Runs `before` events, checkpoints (A), runs `after` events, checkpoints (B), stops; then puts A's engine key
   * back: the KV as a kill after B's rule keys and before B's engine key leaves it. Returns what a restart tells.
   */
  async function tornRestart(
    prefix: string,
    before: [string, number][],
    after: [string, number][],
    leave: 'torn' | 'old-format' = 'torn',
  ): Promise<string[]> {
    const own = new Subjects(prefix);
    const cfg = CollectorConfig.parse({
      nats: { servers: [server.url], prefix },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      rules: [
        { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 },
        { name: 'load', kind: 'threshold', metric: 'load', crit: 10, for: '5m' },
      ],
    });
    const clock = new ManualClock(Date.now());
    const script = new EventScript(clock);
    const js = jetstreamClient(bed.nc);
    await ensureStreams(bed.nc, own);
    const start = (sink: RecordingSink) => bed.start(cfg, { clock, sink });
    let seq = 0;
    const send = async (events: [string, number][]): Promise<void> => {
      for (const [metric, value] of events) {
        await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', metric, value));
        seq++;
      }
      await until(() => bed.collector!.engine.state.streamSeq === seq, `event ${seq} processed`);
    };
    let collector = await start(new RecordingSink());
    await send(before);
    await collector.checkpoint();
    const checkpoints = await openBucket(bed.nc, own, 'checkpoints');
    const engineKeyOfA = (await checkpoints.get('collector.engine'))!.string();
    await send(after);
    await collector.checkpoint();
    await collector.stop();
    if (leave === 'torn') await checkpoints.put('collector.engine', engineKeyOfA);
    else await asOldFormat(checkpoints, ['disk', 'load']);

    const sink = new RecordingSink();
    collector = await start(sink);
    await until(() => collector.engine.state.streamSeq === seq, 'the replay');
    clock.advance(FOR_MS + 1000);
    collector.engine.tick(); // the `for` check, whether or not the evaluation timer ran in advance()
    await collector.idle();
    return sink.lines();
  }

  it('a `for` timer the torn rule key covers still fires', async () => {
    const lines = await tornRestart('torn-start', [['disk_used', 95]], [['load', 50]]);
    assert.deepEqual(lines, ['firing web1 load critical g1'], 'load over its threshold for 5 minutes fires');
  });

  it('a checkpoint of an older version (every series in the engine key) still restores its `for` timers', async () => {
    const lines = await tornRestart('old-format', [['load', 50]], [], 'old-format');
    assert.deepEqual(lines, ['firing web1 load critical g1'], 'the timer started before the upgrade fires');
  });

  it('a `for` timer the torn rule key saw stopped is not brought back', async () => {
    const lines = await tornRestart('torn-stop', [['load', 50]], [['load', 1]]);
    assert.deepEqual(lines, [], 'load back under its threshold before 5 minutes: nothing to tell');
  });
});

/** Rewrites a checkpoint as versions before the series moved into the rule keys wrote it. */
async function asOldFormat(kv: KV, rules: string[]): Promise<void> {
  const engine = (await kv.get('collector.engine'))!.json<{ series: Record<string, unknown> }>();
  for (const name of rules) {
    const key = `collector.rule.${Buffer.from(name).toString('hex')}`;
    const { series, ...rule } = (await kv.get(key))!.json<{ series?: Record<string, unknown> }>();
    Object.assign(engine.series, series);
    await kv.put(key, JSON.stringify(rule));
  }
  await kv.put('collector.engine', JSON.stringify(engine));
}
