import type { MetricPoint } from '../../shared/index.ts';
import { join } from 'node:path';
import { liveProc, readProcesses, readProcFile, type ProcSource } from './proc-reader.ts';
import { ProcFile } from './proc-file.ts';
import {
  CPU_MODES,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMounts,
  parseNetDev,
  parseStat,
  NET_FIELDS,
  type CpuTimes,
  type DiskCounters,
  type Mount,
  type NetCounters,
} from './procfs.ts';
import { filesystemGauges, gaugeSink, memoryGauges, round, type GaugeSink } from './gauges.ts';

export interface SamplerOptions {
  source?: ProcSource;
  /** Scan /proc/<pid>/stat for process states (costs ~0.3 ms per process). */
  processes?: boolean;
  filesystems?: boolean;
  /**
   * Prefix for statfs of each mount point, like node_exporter's --path.rootfs: "/proc/1/root" for a root agent in a
   * private mount namespace, "/host" in a container with the host's / mounted there. Default "/".
   */
  rootfs?: string;
  /** A statfs slower than this (a hung NFS mount) marks the mount as errored instead of stalling the sample. */
  statfsTimeoutMs?: number;
  /** Monotonic ms, for rates; injected by the golden tests. */
  now?: () => number;
}

interface Previous {
  at: number;
  cpus: Map<string, CpuTimes>;
  net: Map<string, NetCounters>;
  disks: Map<string, DiskCounters>;
}

const TWO_POW_32 = 2 ** 32;

/**
 * Per-second rate of a counter. A decrease is a 32-bit wrap when the old value sat in the top half of the
 * 32-bit range (old kernels, some drivers); otherwise the counter was reset (device re-created) and there is no rate.
 */
export function counterRate(previous: number, current: number, seconds: number): number | null {
  if (seconds <= 0) return null;
  if (current >= previous) return (current - previous) / seconds;
  if (previous < TWO_POW_32 && previous >= TWO_POW_32 / 2 && current < TWO_POW_32 / 2)
    return (current + TWO_POW_32 - previous) / seconds;
  return null;
}

/**
 * Turns /proc into node_exporter-named gauges and counters, plus the ratios and rates an alert rule
 * wants directly (offhook_*): counters stay raw so Prometheus-style consumers can rate() them.
 */
export class ResourceSampler {
  private previous: Previous | null = null;
  private readonly source: ProcSource;
  private readonly now: () => number;
  /** The mount table of the latest sample; the fast tick statfs()es these between full samples. */
  mounts: Mount[] = [];
  /** The fixed /proc files stay open and are re-read into reused buffers (by path: tests move `source.root`). */
  private readonly files = new Map<string, ProcFile>();

  constructor(private readonly options: SamplerOptions = {}) {
    this.source = options.source ?? liveProc;
    this.now = options.now ?? (() => performance.now());
  }

  /** A whole sample: the process scan first, then the gauges (see `gauges`). */
  async sample(): Promise<MetricPoint[]> {
    const processes = await this.processPoints();
    return [...(await this.gauges()), ...processes];
  }

  /**
   * The slow part of a full sample (the /proc/<pid>/stat scan), taken apart and first so that the gauges a fast tick
   * also reads (filesystems, memory, load, CPU) are read last, just before the sample is published: a breach that
   * happens during the scan is then in the full sample, and the fast tick need only stand aside for the short read.
   */
  async processPoints(): Promise<MetricPoint[]> {
    if (this.options.processes === false) return [];
    const out: MetricPoint[] = [];
    await this.processes(gaugeSink(out));
    return out;
  }

  /** Everything but the process scan. */
  async gauges(): Promise<MetricPoint[]> {
    const at = this.now();
    const read = async (f: string): Promise<string> => this.procFile(f).read();
    // One call per file (not a mapped array) so the result is a tuple and each text is a definite string.
    const [statText, loadText, memText, netText, diskText, mountText] = await Promise.all([
      read('stat'),
      read('loadavg'),
      read('meminfo'),
      read('net/dev'),
      read('diskstats'),
      this.options.filesystems === false ? Promise.resolve('') : this.mountTable(),
    ]);
    const out: MetricPoint[] = [];
    const gauge = (name: string, value: number, labels?: Record<string, string>): void => {
      if (Number.isFinite(value))
        out.push(labels ? { name, type: 'gauge', value, labels } : { name, type: 'gauge', value });
    };
    const counter = (name: string, value: number, labels?: Record<string, string>): void => {
      if (Number.isFinite(value))
        out.push(labels ? { name, type: 'counter', value, labels } : { name, type: 'counter', value });
    };
    const seconds = this.previous ? (at - this.previous.at) / 1000 : 0;

    const stat = parseStat(statText);
    for (const [cpu, times] of stat.cpus)
      for (const mode of CPU_MODES) counter('node_cpu_seconds_total', times[mode], { cpu, mode });
    this.cpuRatios(stat.cpus, gauge);
    if (stat.contextSwitches !== undefined) counter('node_context_switches_total', stat.contextSwitches);
    if (stat.interrupts !== undefined) counter('node_intr_total', stat.interrupts);
    if (stat.forks !== undefined) counter('node_forks_total', stat.forks);
    if (stat.procsRunning !== undefined) gauge('node_procs_running', stat.procsRunning);
    if (stat.procsBlocked !== undefined) gauge('node_procs_blocked', stat.procsBlocked);
    if (stat.bootTime !== undefined) gauge('node_boot_time_seconds', stat.bootTime);

    const load = parseLoadavg(loadText);
    if (load) {
      gauge('node_load1', load.load1);
      gauge('node_load5', load.load5);
      gauge('node_load15', load.load15);
    }

    memoryGauges(parseMeminfo(memText), gauge);

    const net = parseNetDev(netText);
    for (const [device, c] of net) {
      for (const direction of ['receive', 'transmit'] as const) {
        for (const field of NET_FIELDS) {
          counter(`node_network_${direction}_${field}_total`, c[direction][field], { device });
          const before = this.previous?.net.get(device);
          const rate = before ? counterRate(before[direction][field], c[direction][field], seconds) : null;
          if (rate !== null) gauge(`offhook_network_${direction}_${field}_per_second`, round(rate), { device });
        }
      }
    }

    const disks = parseDiskstats(diskText);
    for (const [device, d] of disks) {
      const labels = { device };
      counter('node_disk_reads_completed_total', d.readsCompleted, labels);
      counter('node_disk_read_bytes_total', d.readBytes, labels);
      counter('node_disk_read_time_seconds_total', d.readTimeSeconds, labels);
      counter('node_disk_writes_completed_total', d.writesCompleted, labels);
      counter('node_disk_written_bytes_total', d.writtenBytes, labels);
      counter('node_disk_write_time_seconds_total', d.writeTimeSeconds, labels);
      counter('node_disk_io_time_seconds_total', d.ioTimeSeconds, labels);
      gauge('node_disk_io_now', d.ioNow, labels);
      const before = this.previous?.disks.get(device);
      if (before) {
        const read = counterRate(before.readBytes, d.readBytes, seconds);
        const written = counterRate(before.writtenBytes, d.writtenBytes, seconds);
        const busy = counterRate(before.ioTimeSeconds, d.ioTimeSeconds, seconds);
        if (read !== null) gauge('offhook_disk_read_bytes_per_second', round(read), labels);
        if (written !== null) gauge('offhook_disk_written_bytes_per_second', round(written), labels);
        if (busy !== null) gauge('offhook_disk_io_utilization_ratio', round(Math.min(1, busy)), labels);
      }
    }

    if (this.options.filesystems !== false) {
      this.mounts = parseMounts(mountText);
      await this.filesystems(this.mounts, gauge);
    }

    this.previous = { at, cpus: stat.cpus, net, disks };
    return out;
  }

  /**
   * Busy fraction over CPUs present in both samples: a CPU that came online (hot-plug) has no baseline and
   * one whose counters went backwards (iowait can, on some kernels) is left out rather than reported as nonsense.
   */
  private cpuRatios(
    cpus: Map<string, CpuTimes>,
    gauge: (name: string, value: number, labels?: Record<string, string>) => void,
  ): void {
    if (!this.previous) return;
    const deltas: Record<string, number> = Object.fromEntries(CPU_MODES.map((m) => [m, 0]));
    let totalDelta = 0;
    for (const [cpu, times] of cpus) {
      const before = this.previous.cpus.get(cpu);
      if (!before) continue;
      const modeDeltas = CPU_MODES.map((m) => times[m] - before[m]);
      if (modeDeltas.some((d) => d < 0)) continue;
      for (const [i, m] of CPU_MODES.entries()) deltas[m]! += modeDeltas[i]!;
      totalDelta += modeDeltas.reduce((a, b) => a + b, 0);
    }
    if (totalDelta <= 0) return;
    for (const mode of CPU_MODES) gauge('offhook_cpu_mode_ratio', round(deltas[mode]! / totalDelta), { mode });
    gauge('offhook_cpu_usage_ratio', round(1 - (deltas.idle! + deltas.iowait!) / totalDelta));
  }

  private procFile(relative: string): ProcFile {
    const path = join(this.source.root, relative);
    let file = this.files.get(path);
    if (!file) this.files.set(path, (file = new ProcFile(path, 8192)));
    return file;
  }

  close(): void {
    for (const file of this.files.values()) file.close();
    this.files.clear();
  }

  /**
   * The host's mount table (PID 1's), not this process's: under systemd's sandbox (ProtectHome, PrivateTmp, its own
   * mount namespace) /proc/self/mounts lacks or replaces real filesystems such as /home. Falls back to our own
   * table where PID 1's is not readable (ProtectProc=invisible, a container's init that is not the host's).
   */
  private async mountTable(): Promise<string> {
    // Unreadable is the expected case named above, not a fault: the fallback is the best view this process has.
    const host = await readProcFile(this.source, '1/mounts').catch(() => '');
    return host || readProcFile(this.source, 'mounts');
  }

  private async filesystems(mounts: Mount[], gauge: GaugeSink): Promise<void> {
    const timeoutMs = this.options.statfsTimeoutMs ?? 2000;
    const { rootfs } = this.options;
    await Promise.all(mounts.map((mount) => filesystemGauges(this.source, rootfs, mount, timeoutMs, gauge)));
  }

  private async processes(
    gauge: (name: string, value: number, labels?: Record<string, string>) => void,
  ): Promise<void> {
    const processes = await readProcesses(this.source);
    const states = new Map<string, number>();
    let threads = 0;
    for (const p of processes) {
      states.set(p.state, (states.get(p.state) ?? 0) + 1);
      threads += p.threads;
    }
    gauge('node_processes_pids', processes.length);
    gauge('node_processes_threads', threads);
    for (const state of [...states.keys()].sort()) gauge('node_processes_state', states.get(state)!, { state });
  }
}
