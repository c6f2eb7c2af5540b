import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import { AlertStore } from '../../../collector/alerts/index.ts';
import { CollectorConfig } from '../../../collector/config.ts';
import { PartitionFeeds } from '../../../collector/group/partition-feeds.ts';
import { PartitionRuntime } from '../../../collector/group/partition.ts';
import { RejectionReport, StreamHead } from '../../../collector/intake/index.ts';
import { collectorMetrics } from '../../../collector/metrics.ts';
import {
  createRegistry,
  ensureStreams,
  fingerprint,
  InboundValidator,
  jetstreamClient,
  ManualClock,
  openBucket,
  publishDurable,
  silentLogger,
  streamNames,
  Subjects,
  systemClock,
} from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { RecordingSink, until } from '../nats-harness.ts';

const subjects = new Subjects('headwait');
const EVENTS = streamNames(subjects).events;
const WINDOW_MS = 100;

/** The feed's user may do everything but, while `denied`, ask EVENTS where it ends (real server permissions). */
function serverConfig(storeDir: string, denied: boolean): string {
  const deny = denied ? `, deny: ["$JS.API.STREAM.INFO.${EVENTS}"]` : '';
  // JetStream from the file, not the command line: a reload turns off what the file does not say.
  return `jetstream { store_dir: "${storeDir}" }
authorization {
  users = [
    { user: admin, password: admin }
    { user: feed, password: feed, permissions: { publish: { allow: [">"]${deny} }, subscribe: { allow: [">"] } } }
  ]
}
`;
}

/**
 * A feed opening on a backlog while stream info fails (collector/group/head-refresh.ts): judged by its deliveries, a
 * replay of history would look live and be told. The feed's user is refused stream info on EVENTS by the server
 * (its permissions), then allowed it by a config reload, as an operator fixing them would; the feed, retrying its
 * consumer meanwhile, then delivers the backlog before anything asked the stream again.
 */
describe('collector feeds on a real nats-server: a backlog waits for stream info', () => {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-headwait-'));
  const configFile = join(dir, 'nats.conf');
  const storeDir = join(dir, 'js');
  writeFileSync(configFile, serverConfig(storeDir, true));
  const server = useNatsServer({ configFile, jetstream: false });
  let admin: NatsConnection;
  let feedNc: NatsConnection;
  let feeds: PartitionFeeds | undefined;
  let runtime: PartitionRuntime | undefined;
  before(async () => {
    admin = await connectTo(server, { user: 'admin', pass: 'admin' });
    feedNc = await connectTo(server, { user: 'feed', pass: 'feed' });
    await ensureStreams(admin, subjects);
  });
  after(async () => {
    feeds?.close();
    await runtime?.close();
    await feedNc.drain();
    await admin.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the backlog back, retries stream info (counted), and once it answers tells nothing old', async () => {
    const js = jetstreamClient(admin);
    const script = new EventScript(new ManualClock(Date.now()));
    const disk = (value: number, host = 'web1') =>
      publishDurable(js, subjects.event(host, 'resource'), script.resource(host, 'disk_used', value));
    const storedAt = async (seq: number) =>
      (await (await jetstreamManager(admin)).streams.getMessage(EVENTS, { seq }))!.time.getTime();
    const breach = await disk(95);
    const before = await storedAt(breach.seq);
    let last = breach;
    while ((await storedAt(last.seq)) - before <= WINDOW_MS) {
      await until(() => Date.now() - before > WINDOW_MS, 'the window to pass');
      last = await disk(10, 'web2');
    }

    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: subjects.prefix },
      replay: { announce_within: `${WINDOW_MS}ms` },
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }],
    });
    const clock = new ManualClock(Date.now());
    const logger = silentLogger();
    const registry = createRegistry('collector');
    const runtimes = new Map<number, PartitionRuntime>();
    const metrics = collectorMetrics(registry, {
      records: () => [...runtimes.values()].flatMap((r) => [...r.engine.records.values()]),
      hostStates: () => [],
    });
    const head = new StreamHead(clock);
    const sink = new RecordingSink();
    const opened = await PartitionRuntime.open(
      {
        partition: 0,
        count: 1,
        config,
        store: new AlertStore(await openBucket(admin, subjects, 'alerts'), logger),
        checkpoints: await openBucket(admin, subjects, 'checkpoints'),
        js,
        subjects,
        sink,
        logger,
        metrics,
        clock,
        rejections: new RejectionReport(metrics.rejected, logger, () => clock.now()),
        head,
      },
      [],
    );
    runtime = opened;
    runtimes.set(0, opened);
    const warnings: string[] = [];
    const feedLogger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line) });
    let failures = 0;
    feeds = new PartitionFeeds({
      nc: feedNc,
      clock: systemClock, // stream info is retried at its real pace until the reload lets it answer
      streams: streamNames(subjects),
      validator: new InboundValidator(registry, logger, subjects, () => clock.now()),
      subjects,
      logger: feedLogger,
      count: 1,
      runtimes,
      head,
      streamInfoFailures: {
        inc: () => {
          failures += 1;
          metrics.streamInfoFailures.inc();
        },
      },
    });
    // Refused, the feed's ordered consumer cannot open either (the client asks stream info first): it retries.
    await feeds.restart();
    await until(() => failures >= 1, 'stream info to fail at the open');
    assert.ok(warnings.some((l) => l.includes('cannot read where the stream ends')));
    assert.match(await registry.metrics(), /offhook_collector_stream_info_failures_total\{process="collector"\} [1-9]/);

    writeFileSync(configFile, serverConfig(storeDir, false));
    server.reload();
    await until(
      () => opened.engine.state.streamSeq >= last.seq,
      'the backlog to be evaluated once stream info answers',
    );
    await opened.queue.idle();
    assert.deepEqual(sink.lines(), [], 'judged against the real head: history, not told (fails without the wait)');
    assert.equal(opened.engine.records.get(fingerprint('web1', 'disk', {}))!.quiet, true);
    assert.equal(head.seq, last.seq);
    assert.ok(
      warnings.some((l) => l.includes('behind the stream head with stream info failing')),
      'held back',
    );
  });
});
