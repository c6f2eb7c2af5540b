import type { MetricPoint } from '../../shared/index.ts';

/**
 * Slow-changing facts from systeminformation (OS, kernel, CPU model). It forks helpers and takes
 * hundreds of ms, which is fine every ten minutes and not fine every second (bench/agent.bench.ts).
 */
export async function readInventory(): Promise<MetricPoint[]> {
  const { default: si } = await import('systeminformation');
  const [os, cpu] = await Promise.all([si.osInfo(), si.cpu()]);
  const clip = (s: string | undefined): string => (s ?? '').slice(0, 200);
  return [
    { name: 'node_os_info', type: 'gauge', value: 1, labels: { name: clip(os.distro), version: clip(os.release), kernel: clip(os.kernel), arch: clip(os.arch) } },
    { name: 'offhook_cpu_info', type: 'gauge', value: 1, labels: { model: clip(`${cpu.manufacturer} ${cpu.brand}`.trim()), cores: String(cpu.cores), physical_cores: String(cpu.physicalCores) } },
  ];
}
