import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ResourceSampler, type FsStats, type ProcSource } from '../../agent/index.ts';
import type { MetricPoint } from '../../shared/index.ts';

/**
 * Telegraf-style golden files: test/fixtures/proc/<scenario>/ holds /proc as recorded at two
 * moments (proc0/, proc1/), statfs answers per mount point, and expected.out, the metrics of the
 * second sample. `OFFHOOK_UPDATE_GOLDEN=1` rewrites expected.out after a deliberate change (review the diff).
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/proc/', import.meta.url));

function render(points: MetricPoint[]): string {
  return points
    .map((p) => {
      const labels = Object.entries(p.labels ?? {})
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',');
      return `${p.name}${labels ? `{${labels}}` : ''} ${p.type} ${p.value}`;
    })
    .join('\n')
    .concat('\n');
}

async function sampleScenario(dir: string): Promise<MetricPoint[]> {
  const statfs = JSON.parse(readFileSync(join(dir, 'statfs.json'), 'utf8')) as Record<string, FsStats | string>;
  const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { elapsed_ms: number; page_size: number };
  const source: ProcSource = {
    root: join(dir, 'proc0'),
    pageSize: meta.page_size,
    statfs: async (mountpoint) => {
      const answer = statfs[mountpoint];
      if (answer === undefined) throw Object.assign(new Error(`ENOENT: ${mountpoint}`), { code: 'ENOENT' });
      if (typeof answer === 'string') throw Object.assign(new Error(`${answer}: ${mountpoint}`), { code: answer });
      return answer;
    },
  };
  let now = 0;
  const sampler = new ResourceSampler({ source, now: () => now });
  await sampler.sample();
  source.root = join(dir, 'proc1');
  now += meta.elapsed_ms;
  return sampler.sample();
}

const value = (points: MetricPoint[], name: string, labels: Record<string, string> = {}): number | undefined =>
  points.find((p) => p.name === name && Object.entries(labels).every(([k, v]) => p.labels?.[k] === v))?.value;

describe('/proc readers (golden files)', () => {
  for (const scenario of readdirSync(FIXTURES).sort()) {
    it(`${scenario} matches expected.out`, async () => {
      const dir = join(FIXTURES, scenario);
      const actual = render(await sampleScenario(dir));
      const expectedFile = join(dir, 'expected.out');
      if (process.env.OFFHOOK_UPDATE_GOLDEN === '1') writeFileSync(expectedFile, actual);
      assert.equal(actual, readFileSync(expectedFile, 'utf8'));
    });
  }

  // The golden files pin everything; these spell out the numbers each scenario exists for.
  it('basic: CPU ratio over both CPUs, rates per second, whole disks only, node_exporter names', async () => {
    const points = await sampleScenario(join(FIXTURES, 'basic'));
    // cpu0 +60 user +20 system +15 idle +5 iowait, cpu1 +10 user +5 system +85 idle → busy 95/200.
    assert.equal(value(points, 'offhook_cpu_usage_ratio'), 0.475);
    assert.equal(value(points, 'offhook_network_receive_bytes_per_second', { device: 'eth0' }), 1_000_000);
    assert.equal(value(points, 'offhook_disk_io_utilization_ratio', { device: 'sda' }), 0.25);
    assert.equal(value(points, 'node_disk_reads_completed_total', { device: 'sda1' }), undefined);
    assert.equal(value(points, 'node_disk_reads_completed_total', { device: 'loop0' }), undefined);
    assert.equal(value(points, 'node_memory_MemAvailable_bytes'), 6_000_000 * 1024);
    assert.equal(value(points, 'offhook_filesystem_used_ratio', { mountpoint: '/' }), 0.631579);
    assert.equal(value(points, 'node_filesystem_files_free', { mountpoint: '/srv/my data' }), 0);
    assert.equal(value(points, 'node_filesystem_size_bytes', { mountpoint: '/proc' }), undefined);
    assert.equal(value(points, 'node_processes_state', { state: 'Z' }), 1);
    assert.equal(value(points, 'node_processes_threads'), 7);
  });

  it('counter-wrap: a 32-bit wrap gives the true rate, a reset none, a CPU going backwards is left out', async () => {
    const points = await sampleScenario(join(FIXTURES, 'counter-wrap'));
    assert.equal(value(points, 'offhook_network_receive_bytes_per_second', { device: 'eth0' }), 496);
    assert.equal(value(points, 'offhook_network_receive_packets_per_second', { device: 'eth0' }), 16);
    assert.equal(value(points, 'offhook_network_transmit_bytes_per_second', { device: 'eth0' }), undefined);
    assert.equal(value(points, 'node_network_transmit_bytes_total', { device: 'eth0' }), 100);
    assert.equal(value(points, 'offhook_cpu_usage_ratio'), 0.5);
  });

  it('cpu-hotplug: new CPUs are reported but do not distort the ratio', async () => {
    const points = await sampleScenario(join(FIXTURES, 'cpu-hotplug'));
    assert.equal(value(points, 'node_cpu_seconds_total', { cpu: '3', mode: 'idle' }), 0.09);
    assert.equal(value(points, 'offhook_cpu_usage_ratio'), 0.5);
  });

  it('mount-disappearing: an unmounted filesystem vanishes, a stale one is flagged', async () => {
    const points = await sampleScenario(join(FIXTURES, 'mount-disappearing'));
    assert.equal(value(points, 'node_filesystem_size_bytes', { mountpoint: '/mnt/data' }), undefined);
    assert.equal(value(points, 'node_filesystem_device_error', { mountpoint: '/mnt/stale' }), 1);
    assert.equal(value(points, 'node_filesystem_size_bytes', { mountpoint: '/mnt/stale' }), undefined);
    assert.equal(value(points, 'node_filesystem_device_error', { mountpoint: '/' }), 0);
  });

  it('reads the live /proc of this machine', async () => {
    const sampler = new ResourceSampler();
    await sampler.sample();
    const points = await sampler.sample();
    assert.ok(value(points, 'node_memory_MemTotal_bytes')! > 0);
    assert.ok(points.some((p) => p.name === 'node_cpu_seconds_total' && p.labels?.cpu === '0'));
    assert.ok(value(points, 'node_processes_pids')! > 1);
  });
});
