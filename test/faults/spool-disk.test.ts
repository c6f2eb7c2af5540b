import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, streamNames, Subjects } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { scrape, scrapeSum, sumOf } from '../../deploy/lib/metrics-text.ts';
import { mountTmpfs } from '../../deploy/lib/tmpfs.ts';
import { untilPolled } from '../helpers/wait.ts';
import { readStream, recordFault } from './common.ts';

const PREFIX = 'diskfull';
const subjects = new Subjects(PREFIX);

describe('faults: the agent spool on a full or unwritable disk', function () {
  this.timeout(180_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  let agent: OffhookProcess | undefined;
  let tmpfs: ReturnType<typeof mountTmpfs> = null;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-disk-'));
    nc = await connectTo(server, { maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    if (agent) await killAndWait(agent.child, 'SIGTERM');
    tmpfs?.unmount();
    await nc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs a clear error, stays up, counts every dropped event, publishes again once the disk is back', async () => {
    const stateDir = join(dir, 'state');
    // A real 256 KiB filesystem where root may mount; otherwise the spool directory is swapped for a file (ENOTDIR).
    tmpfs = process.env.OFFHOOK_FAULTS_NO_TMPFS ? null : mountTmpfs(stateDir, 256 * 1024);
    const how = tmpfs
      ? 'tmpfs of 256 KiB filled (ENOSPC), then remounted read-only (EROFS)'
      : 'spool directory replaced by a file (ENOTDIR): mounting a tmpfs is not allowed here';
    agent = await startOffhook('agent', dir, 'agent', {
      host: 'disk1',
      nats: { servers: [server.url], prefix: PREFIX },
      state_dir: stateDir,
      metrics_listen: '127.0.0.1:0',
      heartbeat_interval: '1s',
      publish_timeout: '1s',
      resources: { interval: '100ms', processes: false, inventory_interval: '10m' },
    });
    const metrics = agent.metricsUrl;
    await untilPolled(
      async () => (await scrapeSum(metrics, 'offhook_agent_events_published_total')) > 0,
      'the first events published',
      30_000,
      100,
    );

    // NATS goes away: everything now goes to the spool, which cannot hold it.
    await server.stop();
    if (!tmpfs) {
      renameSync(join(stateDir, 'spool'), join(stateDir, 'spool.moved'));
      writeFileSync(join(stateDir, 'spool'), 'not a directory');
    }
    await untilPolled(
      async () => (await scrapeSum(metrics, 'offhook_agent_spool_dropped_total')) > 0,
      'events dropped because the spool cannot be written',
      60_000,
      100,
    );
    const droppedFull = await scrapeSum(metrics, 'offhook_agent_spool_dropped_total');
    assert.match(agent.output(), /cannot write to the spool; dropping events until it works again/);
    assert.match(agent.output(), tmpfs ? /ENOSPC/ : /ENOTDIR/);
    let droppedReadOnly = 0;
    if (tmpfs) {
      tmpfs.remount('ro');
      await untilPolled(() => /EROFS/.test(agent!.output()), 'the read-only error logged', 30_000, 100);
      const before = await scrapeSum(metrics, 'offhook_agent_spool_dropped_total');
      await untilPolled(
        async () => (await scrapeSum(metrics, 'offhook_agent_spool_dropped_total')) > before,
        'drops counted on the read-only disk',
        30_000,
        100,
      );
      droppedReadOnly = (await scrapeSum(metrics, 'offhook_agent_spool_dropped_total')) - droppedFull;
      tmpfs.remount('rw');
    }
    assert.ok(agent.alive(), 'the agent is still running');
    assert.equal((await fetch(`${agent.url}/healthz`)).status, 200);

    // The disk and NATS come back: the spool is drained and new events flow again.
    if (!tmpfs) {
      rmSync(join(stateDir, 'spool'));
      mkdirSync(join(stateDir, 'spool'));
    }
    await server.start();
    // Once the spool is drained the disk has room again: every later seq is published, so each drop is a gap below it.
    await untilPolled(
      async () =>
        (await scrapeSum(metrics, 'offhook_agent_spool_depth')) === 0 &&
        (await scrapeSum(metrics, 'offhook_agent_events_published_total')) > 0,
      'the spool drained',
      60_000,
      100,
    );
    const seqAfterDrain = await scrapeSum(metrics, 'offhook_agent_sequence');
    const jsm = await jetstreamManager(nc);
    const lastSeq = async (): Promise<number> =>
      (
        await jsm.streams.getMessage(streamNames(subjects).events, {
          last_by_subj: subjects.event('disk1', 'resource'),
        })
      )?.json<{ seq: number }>().seq ?? 0;
    await untilPolled(
      async () => (await lastSeq()) > seqAfterDrain,
      'new events published after the disk and NATS are back',
      60_000,
      100,
    );
    lastMetrics = await scrape(metrics);
    await killAndWait(agent.child, 'SIGTERM');
    const final = await readFinal(nc, subjects);
    const output = agent.output();
    agent = undefined;

    // Every seq the agent assigned is either stored or counted as dropped: nothing vanished uncounted.
    const dropped = final.dropped;
    assert.ok(dropped > 0);
    const missing = final.maxSeq - final.stored;
    assert.equal(final.duplicates, 0);
    assert.equal(missing, dropped, 'every seq gap is a counted drop');
    assert.doesNotMatch(output, /uncaught|unhandled/i);

    recordFault({
      scenario: 'agent spool on a full / unwritable disk',
      tried: `NATS stopped while the agent samples every 100 ms; ${how}; then disk and NATS restored`,
      counts: {
        dropped_total: dropped,
        dropped_disk_full: droppedFull,
        dropped_read_only: droppedReadOnly,
        events_stored: final.stored,
        highest_seq: final.maxSeq,
        seq_gaps: missing,
        crashes: 0,
      },
      lost: Math.max(0, missing - dropped),
    });

    async function readFinal(
      conn: NatsConnection,
      s: Subjects,
    ): Promise<{ stored: number; maxSeq: number; duplicates: number; dropped: number }> {
      const names = streamNames(s);
      const info = (await (await jetstreamManager(conn)).streams.info(names.events)).state;
      const count = info.messages;
      const events = await readStream<{ seq: number }>(conn, names.events, count);
      const seqs = events.map((e) => e.data.seq);
      return {
        stored: new Set(seqs).size,
        maxSeq: Math.max(...seqs),
        duplicates: seqs.length - new Set(seqs).size,
        dropped: sumOf(lastMetrics, 'offhook_agent_spool_dropped_total'),
      };
    }
  });
  let lastMetrics: Awaited<ReturnType<typeof scrape>> = [];
});
