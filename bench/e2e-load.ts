import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamClient, type MetricPoint, type ResourceSample, type Subjects } from '../shared/index.ts';
import { resourceSample } from './lib.ts';

/**
 * What one agent sends every interval, shaped like agent/resources: CPU and memory ratios, load,
 * two filesystems and two network devices with node_exporter labels (38 points, ~3 KiB of JSON).
 */
export function realisticSample(host: string, seq: number): ResourceSample {
  const wobble = (i: number): number => ((seq * 7919 + i * 104729 + host.length * 31) % 1000) / 1000;
  const metrics: MetricPoint[] = [
    { name: 'offhook_cpu_usage_ratio', type: 'gauge', value: 0.1 + wobble(1) * 0.5 },
    { name: 'node_load1', type: 'gauge', value: wobble(2) * 4 },
    { name: 'node_load5', type: 'gauge', value: wobble(3) * 4 },
    { name: 'node_load15', type: 'gauge', value: wobble(4) * 4 },
    { name: 'offhook_memory_used_ratio', type: 'gauge', value: 0.3 + wobble(5) * 0.4 },
    { name: 'offhook_swap_used_ratio', type: 'gauge', value: wobble(6) * 0.1 },
    { name: 'node_memory_MemAvailable_bytes', type: 'gauge', value: 8e9 * wobble(7) },
    { name: 'node_processes_pids', type: 'gauge', value: 150 + Math.round(wobble(8) * 50) },
    { name: 'node_procs_running', type: 'gauge', value: Math.round(wobble(9) * 4) },
    { name: 'node_context_switches_total', type: 'counter', value: seq * 12_345 },
  ];
  for (const [device, mountpoint, fstype] of [
    ['/dev/sda1', '/', 'ext4'],
    ['/dev/sdb1', '/var', 'xfs'],
  ] as const) {
    const labels = { device, mountpoint, fstype };
    metrics.push(
      { name: 'offhook_filesystem_used_ratio', type: 'gauge', value: 0.4 + wobble(10) * 0.3, labels },
      { name: 'offhook_filesystem_files_used_ratio', type: 'gauge', value: 0.1 + wobble(11) * 0.1, labels },
      { name: 'node_filesystem_avail_bytes', type: 'gauge', value: 5e10 * wobble(12), labels },
      { name: 'node_filesystem_size_bytes', type: 'gauge', value: 1e11, labels },
      { name: 'node_filesystem_device_error', type: 'gauge', value: 0, labels },
    );
  }
  for (const device of ['eth0', 'lo']) {
    const labels = { device };
    for (const [i, name] of [
      'receive_bytes',
      'transmit_bytes',
      'receive_packets',
      'transmit_packets',
      'receive_errs',
      'transmit_errs',
      'receive_drop',
      'transmit_drop',
    ].entries()) {
      metrics.push({ name: `node_network_${name}_total`, type: 'counter', value: seq * (1000 + i), labels });
    }
  }
  return resourceSample(host, seq, metrics);
}

/** One process publishing `rounds` samples for each of `hosts` hosts, 1,000 publishes in flight at most. */
export async function publishHosts(
  nc: NatsConnection,
  subjects: Subjects,
  hosts: number,
  rounds: number,
): Promise<{ events: number; bytes: number }> {
  const js = jetstreamClient(nc);
  let inflight: Promise<unknown>[] = [];
  let events = 0;
  let bytes = 0;
  for (let round = 1; round <= rounds; round++) {
    for (let h = 0; h < hosts; h++) {
      const host = `host${h}`;
      const sample = realisticSample(host, round);
      const payload = JSON.stringify(sample);
      bytes += payload.length;
      inflight.push(js.publish(subjects.event(host, 'resource'), payload, { msgID: sample.id }));
      events++;
      if (inflight.length >= 1000) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
  }
  await Promise.all(inflight);
  return { events, bytes };
}
