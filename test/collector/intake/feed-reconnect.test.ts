import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createRegistry,
  jetstreamClient,
  ManualClock,
  publishDurable,
  silentLogger,
  Subjects,
} from '../../../shared/index.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import type { RunningCollector } from '../../../collector/service.ts';
import { NATS_SERVER_BIN } from '../../../deploy/lib/embedded-nats.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { metricValue } from '../notify/helpers.ts';
import { RecordingSink } from '../nats-harness.ts';

const subjects = new Subjects();

/** Resolves at the connection's next `reconnect` status. */
async function nextReconnect(nc: NatsConnection): Promise<void> {
  for await (const status of nc.status()) if (status.type === 'reconnect') return;
}

describe('collector: EVENTS feed across a nats-server restart', () => {
  const bed = useCollectorBed({ connect: { maxReconnectAttempts: -1, reconnectTimeWait: 100 } });
  const { server } = bed;

  const startWith = async (
    registry: ReturnType<typeof createRegistry>,
    sink: RecordingSink,
    clock: ManualClock,
  ): Promise<RunningCollector> => {
    const config = CollectorConfig.parse({
      nats: { servers: [server.url] },
      listen: '127.0.0.1:0',
      checkpoint_interval: '1h',
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    // A pull that outlives the test: the feed must come back because of the reconnect, not because a pull expired.
    return bed.start(config, {
      logger: process.env.DEBUG_FEED
        ? (await import('../../../shared/index.ts')).createLogger('c', { level: 'info' })
        : silentLogger(),
      registry,
      clock,
      sink,
      feedPullExpiryMs: 120_000,
    });
  };
  /** Right after a restart JetStream may still be recovering its store: retry until the stream takes the event. */
  const sender = (clock: ManualClock) => {
    const script = new EventScript(clock);
    const js = jetstreamClient(bed.nc);
    return async (host: string, value: number): Promise<void> => {
      const event = script.resource(host, 'disk_used', value, { mountpoint: '/' });
      for (;;) {
        try {
          await publishDurable(js, subjects.event(host, 'resource'), event);
          return;
        } catch {
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    };
  };

  it('events published right after the reconnect are evaluated, each once, with nothing skipped', async () => {
    const clock = new ManualClock(Date.now());
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const collector = await startWith(registry, sink, clock);
    const send = sender(clock);

    await send('web1', 95);
    await sink.waitForCount(1);

    const collectorBack = nextReconnect(collector.nc);
    const testBack = nextReconnect(bed.nc);
    await server.restart();
    await Promise.all([collectorBack, testBack]);
    for (const host of ['web2', 'web3', 'web4']) await send(host, 96);

    await sink.waitForCount(4, 20_000);
    await collector.idle();
    assert.deepEqual(sink.lines().sort(), [
      'firing web1 disk critical g1',
      'firing web2 disk critical g1',
      'firing web3 disk critical g1',
      'firing web4 disk critical g1',
    ]);
    assert.equal(
      await metricValue(registry, 'offhook_collector_events_total', { kind: 'resource' }),
      4,
      'each event evaluated once',
    );
    assert.equal(collector.engine.state.streamSeq, 4);
  });

  it('recovers when it first reconnects to a server whose JetStream is not up yet, then again once it is', async () => {
    const clock = new ManualClock(Date.now());
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const collector = await startWith(registry, sink, clock);
    const send = sender(clock);
    const before = collector.engine.state.streamSeq;
    await send('db1', 95);
    await sink.waitForCount(1);

    // The same port answers first without JetStream (a server still recovering, a cluster without a meta leader).
    let collectorBack = nextReconnect(collector.nc);
    await server.stop();
    const bare = spawnTracked(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(server.port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await waitForOutput(bare, /Server is ready/, 15_000);
    await collectorBack;
    collectorBack = nextReconnect(collector.nc);
    await killAndWait(bare, 'SIGTERM');
    await server.start();
    await collectorBack;
    for (const host of ['db2', 'db3']) await send(host, 97);

    await sink.waitForCount(3, 20_000);
    await collector.idle();
    assert.deepEqual(sink.lines().sort(), [
      'firing db1 disk critical g1',
      'firing db2 disk critical g1',
      'firing db3 disk critical g1',
    ]);
    assert.equal(
      await metricValue(registry, 'offhook_collector_events_total', { kind: 'resource' }),
      3,
      'each event evaluated once',
    );
    assert.equal(collector.engine.state.streamSeq, before + 3);
  });
});
