import { join } from 'node:path';
import type { MetricPoint } from '../../shared/index.ts';
import type { FsStats, ProcSource } from './proc-reader.ts';
import type { Mount } from './procfs.ts';

/** Appends a gauge point (non-finite values are dropped: the schema refuses them). */
export type GaugeSink = (name: string, value: number, labels?: Record<string, string>) => void;

export function gaugeSink(out: MetricPoint[]): GaugeSink {
  return (name, value, labels) => {
    if (!Number.isFinite(value)) return;
    out.push(labels ? { name, type: 'gauge', value, labels } : { name, type: 'gauge', value });
  };
}

export function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export const MEMINFO_KEYS = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Cached',
  'SwapTotal',
  'SwapFree',
  'SwapCached',
  'Shmem',
  'Dirty',
] as const;

/** node_memory_*_bytes plus used bytes/ratio (used = total − available); the full sample and the fast tick share it. */
export function memoryGauges(mem: Map<string, number>, gauge: GaugeSink): void {
  for (const key of MEMINFO_KEYS) {
    const value = mem.get(key);
    if (value !== undefined) gauge(`node_memory_${key}_bytes`, value);
  }
  const total = mem.get('MemTotal');
  const available =
    mem.get('MemAvailable') ?? (mem.get('MemFree') ?? 0) + (mem.get('Buffers') ?? 0) + (mem.get('Cached') ?? 0);
  if (total) {
    gauge('offhook_memory_used_bytes', total - available);
    gauge('offhook_memory_used_ratio', round((total - available) / total));
  }
  const swapTotal = mem.get('SwapTotal');
  if (swapTotal !== undefined) {
    const used = swapTotal - (mem.get('SwapFree') ?? 0);
    gauge('offhook_swap_used_bytes', used);
    gauge('offhook_swap_used_ratio', swapTotal > 0 ? round(used / swapTotal) : 0);
  }
}

export function mountLabels(mount: Mount): Record<string, string> {
  return { device: mount.device.slice(0, 1024), mountpoint: mount.mountpoint.slice(0, 1024), fstype: mount.fstype };
}

/**
 * statfs calls that have not returned yet, per source and path. A statfs on a hung NFS mount holds one of libuv's 4
 * pool threads until the server answers; a new one every fast tick would take all four within a second and stall
 * every file operation of the agent (spool, logs). So while a call is out, later callers share it instead.
 */
const statfsInFlight = new WeakMap<ProcSource, Map<string, Promise<FsStats>>>();

function sharedStatfs(source: ProcSource, path: string): Promise<FsStats> {
  let calls = statfsInFlight.get(source);
  if (!calls) statfsInFlight.set(source, (calls = new Map()));
  let call = calls.get(path);
  if (!call) {
    call = (async () => source.statfs(path))();
    calls.set(path, call);
    // Only the call's own end frees the path: one that timed out still holds its pool thread.
    const done = (): void => void calls.delete(path);
    call.then(done, done);
  }
  return call;
}

/**
 * statfs of one mount point into node_filesystem_* and used ratios. A statfs slower than `timeoutMs` (a hung NFS
 * mount) or failing marks the mount as errored instead of stalling the sample.
 */
export async function filesystemGauges(
  source: ProcSource,
  rootfs: string | undefined,
  mount: Mount,
  timeoutMs: number,
  gauge: GaugeSink,
): Promise<void> {
  const labels = mountLabels(mount);
  const path = rootfs ? join(rootfs, mount.mountpoint) : mount.mountpoint;
  let timer: NodeJS.Timeout | undefined;
  try {
    const fs = await Promise.race([
      sharedStatfs(source, path),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('statfs timed out')), timeoutMs))),
    ]);
    gauge('node_filesystem_device_error', 0, labels);
    gauge('node_filesystem_size_bytes', fs.blocks * fs.bsize, labels);
    gauge('node_filesystem_free_bytes', fs.bfree * fs.bsize, labels);
    gauge('node_filesystem_avail_bytes', fs.bavail * fs.bsize, labels);
    gauge('node_filesystem_files', fs.files, labels);
    gauge('node_filesystem_files_free', fs.ffree, labels);
    // "Used" the way df counts it: root-reserved blocks are neither used nor available.
    const usable = fs.blocks - fs.bfree + fs.bavail;
    if (usable > 0) gauge('offhook_filesystem_used_ratio', round((fs.blocks - fs.bfree) / usable), labels);
    if (fs.files > 0) gauge('offhook_filesystem_files_used_ratio', round((fs.files - fs.ffree) / fs.files), labels);
  } catch {
    // Unmounted between reading the mount table and statfs, or stale: say so instead of dropping it silently.
    gauge('node_filesystem_device_error', 1, labels);
  } finally {
    clearTimeout(timer);
  }
}
