import { readFileSync } from 'node:fs';
import { arch, cpus, release } from 'node:os';
import type { MetricPoint } from '../../shared/index.ts';

/**
 * Slow-changing facts (OS, kernel, CPU model) from /etc/os-release and /proc/cpuinfo, refreshed every
 * inventory_interval. It used systeminformation, which forks helpers and, bundled, was 0.7 MB of the agent's
 * 4 MB script parsed at every start for two labels (agent/README.md "Footprint").
 */
export async function readInventory(
  root = { osRelease: '/etc/os-release', cpuinfo: '/proc/cpuinfo' },
): Promise<MetricPoint[]> {
  const clip = (s: string | undefined): string => (s ?? '').slice(0, 200);
  const osRelease = parseKeyValues(readOptional(root.osRelease) || readOptional('/usr/lib/os-release'), '=');
  const cpu = parseCpuinfo(readOptional(root.cpuinfo));
  const cores = cpu.cores || cpus().length;
  const os = {
    name: clip(osRelease.get('NAME') ?? 'Linux'),
    version: clip(osRelease.get('VERSION_ID')),
    kernel: clip(release()),
    arch: clip(arch()),
  };
  const processor = {
    model: clip(cpu.model || cpus()[0]?.model),
    cores: String(cores),
    physical_cores: String(cpu.physicalCores || cores),
  };
  return [
    { name: 'node_os_info', type: 'gauge', value: 1, labels: os },
    { name: 'offhook_cpu_info', type: 'gauge', value: 1, labels: processor },
  ];
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // Missing in some containers: the labels fall back to what node:os knows.
  }
}

function parseKeyValues(text: string, separator: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(separator);
    if (at > 0)
      values.set(
        line.slice(0, at).trim(),
        line
          .slice(at + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  return values;
}

/** Model of the first processor; logical cores = processor entries; physical = distinct (physical id, core id). */
export function parseCpuinfo(text: string): { model: string; cores: number; physicalCores: number } {
  let model = '';
  let cores = 0;
  const physical = new Set<string>();
  for (const block of text.split(/\n\s*\n/)) {
    const fields = parseKeyValues(block, ':');
    if (!fields.has('processor')) continue;
    cores++;
    model ||= fields.get('model name') ?? fields.get('Model') ?? fields.get('cpu model') ?? '';
    if (fields.has('core id')) physical.add(`${fields.get('physical id') ?? '0'}:${fields.get('core id')}`);
  }
  return { model: model.replace(/\s+/g, ' ').trim(), cores, physicalCores: physical.size };
}
