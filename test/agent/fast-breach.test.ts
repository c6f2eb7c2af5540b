import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { mountTmpfs } from '../../deploy/lib/tmpfs.ts';
import { readEvents, subjects, tempDir, writeConfig, type AgentEvent } from './helpers.ts';

const isFull = (e: AgentEvent): boolean =>
  e.kind === 'resource' && e.metrics.some((m) => m.name === 'node_cpu_seconds_total');
const usedRatio = (e: AgentEvent, mountpoint: string): number | undefined => {
  if (e.kind !== 'resource') return undefined;
  const ratios = e.metrics.filter((m) => m.name === 'offhook_filesystem_used_ratio');
  return ratios.find((m) => m.labels?.mountpoint === mountpoint)?.value;
};

describe('agent process: a disk breach travels on the fast tick', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();

  before(async () => {
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  it('a tmpfs filled past 50 % is published in a partial sample before the next full snapshot', async function () {
    const disk = join(dir.path, 'watched');
    const tmpfs = mountTmpfs(disk, 1024 * 1024);
    if (!tmpfs) this.skip(); // needs root (mount -t tmpfs)
    const host = 'fast1';
    const file = writeConfig(dir.path, {
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, host),
      // The next full snapshot is an hour away: only the fast tick can carry the breach.
      resources: { interval: '1h', processes: false },
    });
    const agent = spawnTracked('node', ['offhook.mjs', 'agent', '--config', file, '--metrics-listen', '127.0.0.1:0']);
    try {
      await waitForOutput(agent, /connected to NATS/);
      const first = await readEvents(nc, host, (evs) => evs.some(isFull));
      const baseline = usedRatio(first.find(isFull)!, disk);
      assert.ok(baseline !== undefined && baseline < 0.1, `the first full sample has the empty tmpfs (${baseline})`);
      writeFileSync(join(disk, 'fill'), Buffer.alloc(700 * 1024, 1));
      const events = await readEvents(nc, host, (evs) => evs.some((e) => (usedRatio(e, disk) ?? 0) > 0.5));
      const carrier = events.find((e) => (usedRatio(e, disk) ?? 0) > 0.5)!;
      assert.ok(!isFull(carrier), 'a partial sample carried the breach');
      assert.equal(events.filter(isFull).length, 1, 'no full snapshot was published before it');
      assert.ok(carrier.seq > first.find(isFull)!.seq);
      const ofDisk = carrier.kind === 'resource' ? carrier.metrics.filter((m) => m.labels?.mountpoint === disk) : [];
      const names = new Set(ofDisk.map((m) => m.name));
      assert.ok(names.has('node_filesystem_avail_bytes'), 'the mount travels with all its gauges');
    } finally {
      await killAndWait(agent, 'SIGTERM');
      tmpfs?.unmount();
    }
  });
});
