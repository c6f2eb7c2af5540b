import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deadband } from '../../agent/resources/deadband.ts';
import { FastGauges, type GaugeGroup } from '../../agent/resources/fast-gauges.ts';
import { FastTick } from '../../agent/resources/fast-tick.ts';
import { filesystemGauges, gaugeSink } from '../../agent/resources/gauges.ts';
import type { FsStats, ProcSource } from '../../agent/index.ts';
import { ManualClock, silentLogger, type MetricPoint } from '../../shared/index.ts';
import { tempDir } from './helpers.ts';

const BANDS = { filesystem: 0.01, memory: 0.02, load: 0.5, cpu: 0.25 };
const MIB_KB = 1024;

/** A /proc the test writes (meminfo, loadavg, stat) and statfs answers it sets, read by the real FastGauges. */
function fakeHost(root: string) {
  mkdirSync(root, { recursive: true });
  const fs = new Map<string, FsStats>();
  const host = {
    source: {
      root,
      pageSize: 4096,
      statfs: async (path: string) => {
        const answer = fs.get(path);
        if (!answer) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        return answer;
      },
    } as ProcSource,
    /** used: fraction of a 1000-block filesystem in use. */
    disk(mountpoint: string, used: number): void {
      const free = Math.round(1000 * (1 - used));
      fs.set(mountpoint, { bsize: 4096, blocks: 1000, bfree: free, bavail: free, files: 100, ffree: 50 });
    },
    memory(usedRatio: number): void {
      const total = 1000 * MIB_KB;
      const available = Math.round(total * (1 - usedRatio));
      const text = `MemTotal: ${total} kB\nMemFree: 1 kB\nMemAvailable: ${available} kB\nSwapTotal: 0 kB\n`;
      writeFileSync(join(root, 'meminfo'), text);
    },
    load(load1: number): void {
      writeFileSync(join(root, 'loadavg'), `${load1} 0.50 0.40 1/100 4242\n`);
    },
    /** Cumulative jiffies: busy and idle. */
    cpu(busy: number, idle: number): void {
      writeFileSync(join(root, 'stat'), `cpu  ${busy} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${busy} 0 0 ${idle} 0 0 0 0 0 0\n`);
    },
  };
  host.memory(0.5);
  host.load(0.5);
  host.cpu(0, 0);
  return host;
}

const mounts = [
  { device: '/dev/sda1', mountpoint: '/', fstype: 'ext4' },
  { device: 'tmpfs', mountpoint: '/srv', fstype: 'tmpfs' },
];
const keysOf = (groups: GaugeGroup[]): string[] => groups.map((g) => g.key.replace('\u0000', ':')).sort();
const mountpointsIn = (points: MetricPoint[]): string[] =>
  [...new Set(points.flatMap((p) => (p.labels?.mountpoint ? [p.labels.mountpoint] : [])))].sort();

describe('agent fast tick: report by exception', () => {
  const dir = tempDir();
  after(() => dir.remove());
  let n = 0;

  function setUp(
    options: { busy?: () => boolean; fullSamples?: () => number; onRead?: () => void; readMs?: number } = {},
  ) {
    const host = fakeHost(join(dir.path, `proc${n++}`));
    host.disk('/', 0.4);
    host.disk('/srv', 0.1);
    let now = 0;
    const gauges = new FastGauges({
      source: host.source,
      filesystems: true,
      mounts: () => mounts,
      cpuWindowMs: 10_000,
      now: () => now,
    });
    const deadband = new Deadband(BANDS);
    const clock = new ManualClock();
    const published: MetricPoint[][] = [];
    const reads: number[] = [];
    const tick = new FastTick({
      intervalMs: 250,
      read: () => {
        reads.push(clock.now());
        options.onRead?.();
        const { readMs } = options;
        if (!readMs) return gauges.read();
        // A read that takes time on the test's clock (a statfs per mount on a busy host).
        return new Promise<GaugeGroup[]>((resolve) => clock.setTimeout(() => resolve(gauges.read()), readMs));
      },
      deadband,
      busy: options.busy ?? (() => false),
      ...(options.fullSamples ? { fullSamples: options.fullSamples } : {}),
      publish: async (points) => void published.push(points),
      logger: silentLogger(),
      clock,
    });
    return { host, gauges, deadband, clock, published, reads, tick, advance: (ms: number) => (now += ms) };
  }

  it('deadband: a group passes only when its key value moved at least its band from the last published one', () => {
    const deadband = new Deadband(BANDS);
    const group = (family: GaugeGroup['family'], value: number): GaugeGroup => ({
      family,
      key: family,
      value,
      points: [],
    });
    assert.deepEqual(keysOf(deadband.moved([group('memory', 0.5)])), ['memory'], 'never published: moved');
    deadband.published([
      { name: 'offhook_memory_used_ratio', type: 'gauge', value: 0.5 },
      { name: 'node_load1', type: 'gauge', value: 1 },
    ]);
    assert.deepEqual(deadband.moved([group('memory', 0.515), group('load', 1.4)]), []);
    assert.deepEqual(keysOf(deadband.moved([group('memory', 0.48), group('load', 1.5)])), ['load', 'memory']);
  });

  it('publishes nothing while nothing moves, then only the moved filesystem with all its gauges', async () => {
    const t = setUp();
    t.deadband.published((await t.gauges.read()).flatMap((g) => g.points)); // what the full sample carried
    assert.deepEqual(await t.tick.tick(), []);
    t.host.disk('/srv', 0.105);
    assert.deepEqual(await t.tick.tick(), [], 'half a percent is inside the 1 % band');
    t.host.disk('/srv', 0.7);
    const points = await t.tick.tick();
    assert.deepEqual(mountpointsIn(points), ['/srv']);
    assert.deepEqual(points.map((p) => p.name).sort(), [
      'node_filesystem_avail_bytes',
      'node_filesystem_device_error',
      'node_filesystem_files',
      'node_filesystem_files_free',
      'node_filesystem_free_bytes',
      'node_filesystem_size_bytes',
      'offhook_filesystem_files_used_ratio',
      'offhook_filesystem_used_ratio',
    ]);
    assert.equal(points.find((p) => p.name === 'offhook_filesystem_used_ratio')!.value, 0.7);
    assert.deepEqual(await t.tick.tick(), [], 'the published value is the new baseline');
    assert.equal(t.published.length, 1);
  });

  it('memory needs 2 %, load 0.5; a full sample in between resets the baselines', async () => {
    const t = setUp();
    t.deadband.published((await t.gauges.read()).flatMap((g) => g.points));
    t.host.memory(0.51);
    t.host.load(0.9);
    assert.deepEqual(await t.tick.tick(), []);
    t.host.memory(0.53);
    t.host.load(1.0);
    const points = await t.tick.tick();
    const wanted = new Set(['offhook_memory_used_ratio', 'node_load1']);
    const keys = points.map((p) => p.name).filter((name) => wanted.has(name));
    assert.deepEqual(keys.sort(), ['node_load1', 'offhook_memory_used_ratio']);
    assert.deepEqual(mountpointsIn(points), []);
    t.host.memory(0.56);
    // A full sample published 0.56 meanwhile: nothing left to report.
    t.deadband.published([{ name: 'offhook_memory_used_ratio', type: 'gauge', value: 0.56 }]);
    assert.deepEqual(await t.tick.tick(), []);
  });

  it('CPU busy ratio is taken over the full interval window, so a short burst does not pass the band', async () => {
    const t = setUp();
    let busy = 0;
    let idle = 0;
    // 10 s of an idle host at 250 ms ticks (100 jiffies a second on one CPU).
    for (let i = 0; i <= 40; i++) {
      t.host.cpu(busy, idle);
      await t.gauges.read();
      idle += 25;
      t.advance(250);
    }
    t.host.cpu(busy, idle);
    t.deadband.published((await t.gauges.read()).flatMap((g) => g.points));
    // One fully busy tick: 250 ms of 10 s.
    busy += 25;
    t.advance(250);
    t.host.cpu(busy, idle);
    assert.deepEqual(await t.tick.tick(), []);
    // Four busy seconds in the window: 40 % busy.
    for (let i = 0; i < 16; i++) {
      busy += 25;
      t.advance(250);
      t.host.cpu(busy, idle);
      await t.gauges.read();
    }
    const points = await t.tick.tick();
    const usage = points.find((p) => p.name === 'offhook_cpu_usage_ratio');
    assert.ok(usage && usage.value > 0.25 && usage.value < 0.5, `usage ${usage?.value}`);
  });

  it('a mount appearing between full samples is published at once; nothing while a full sample runs', async () => {
    let fullSampleRunning = true;
    const t = setUp({ busy: () => fullSampleRunning });
    const known = (await t.gauges.read()).flatMap((g) => g.points).filter((p) => p.labels?.mountpoint !== '/srv');
    t.deadband.published(known);
    assert.deepEqual(await t.tick.tick(), [], 'busy');
    fullSampleRunning = false;
    assert.deepEqual(mountpointsIn(await t.tick.tick()), ['/srv']);
  });

  it('a tick whose read straddles a full sample gauge read publishes nothing: its values may be older', async () => {
    let fullSamples = 0;
    let fullSampleDuringRead = true;
    const t = setUp({
      fullSamples: () => fullSamples,
      // A full sample reads its gauges (and is submitted) while this tick's read is out.
      onRead: () => void (fullSampleDuringRead && fullSamples++),
    });
    t.deadband.published((await t.gauges.read()).flatMap((g) => g.points));
    t.host.disk('/srv', 0.7);
    assert.deepEqual(await t.tick.tick(), [], 'raced a full sample');
    assert.equal(t.published.length, 0);
    fullSampleDuringRead = false;
    assert.deepEqual(mountpointsIn(await t.tick.tick()), ['/srv'], 'the next tick, alone, publishes the move');
  });

  it('a statfs still out (hung NFS mount) is shared, never issued again: the libuv pool is not exhausted', async () => {
    let calls = 0;
    let answer!: (stats: FsStats) => void;
    const source: ProcSource = {
      root: dir.path,
      pageSize: 4096,
      statfs: () => {
        calls++;
        return new Promise<FsStats>((resolve) => (answer = resolve));
      },
    };
    const mount = { device: 'srv:/export', mountpoint: '/mnt/nfs', fstype: 'nfs4' };
    const first: MetricPoint[] = [];
    const second: MetricPoint[] = [];
    const both = Promise.all([
      filesystemGauges(source, undefined, mount, 60_000, gaugeSink(first)),
      filesystemGauges(source, undefined, mount, 60_000, gaugeSink(second)),
    ]);
    assert.equal(calls, 1);
    const stats = { bsize: 4096, blocks: 100, bfree: 50, bavail: 50, files: 10, ffree: 5 };
    answer(stats);
    await both;
    assert.deepEqual(second, first);
    assert.equal(first.find((p) => p.name === 'offhook_filesystem_used_ratio')?.value, 0.5);
    const third = filesystemGauges(source, undefined, mount, 60_000, gaugeSink([]));
    assert.equal(calls, 2, 'once answered, the next sample asks again');
    answer(stats);
    await third;
  });

  it('ticks every interval on the clock it is given, and not after stop()', async () => {
    const t = setUp();
    t.tick.start();
    t.clock.advance(249);
    assert.equal(t.reads.length, 0);
    t.clock.advance(1);
    assert.deepEqual(t.reads, [t.clock.now()]);
    t.tick.stop();
    t.clock.advance(10_000);
    assert.equal(t.reads.length, 1);
    assert.equal(t.clock.pendingTimers(), 0);
  });

  it('ticks at a fixed rate: a slow read does not stretch the period; an overrun is followed at once', async () => {
    const run = async (readMs: number): Promise<number[]> => {
      const t = setUp({ readMs });
      const start = t.clock.now();
      t.tick.start();
      for (let ms = 0; ms < 1000; ms++) {
        t.clock.advance(1);
        await new Promise((resolve) => setImmediate(resolve)); // lets the finished read schedule the next tick
      }
      t.tick.stop();
      return t.reads.map((at) => at - start);
    };
    assert.deepEqual(await run(40), [250, 500, 750, 1000]);
    // Due at 250, done at 550: the next starts at once (550, done 850), and so on; never two at a time.
    assert.deepEqual((await run(300)).slice(0, 3), [250, 550, 850]);
  });
});
