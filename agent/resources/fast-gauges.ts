import { join } from 'node:path';
import type { MetricPoint } from '../../shared/index.ts';
import { ProcFile } from './proc-file.ts';
import { liveProc, type ProcSource } from './proc-reader.ts';
import { CPU_MODES, parseLoadavg, parseMeminfo, USER_HZ, type Mount } from './procfs.ts';
import { filesystemGauges, gaugeSink, memoryGauges, mountLabels, round } from './gauges.ts';

/** The cheap gauge families the fast tick watches; each has its own deadband. */
export const FAMILIES = ['filesystem', 'memory', 'load', 'cpu'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * One unit of report-by-exception: the points that travel together when `value` (the family's key metric) moves
 * past the deadband. A filesystem travels with all its gauges (a rule may watch avail bytes, not the ratio).
 */
export interface GaugeGroup {
  key: string;
  family: Family;
  value: number;
  points: MetricPoint[];
}

/** The key metric of each family and how a point of it names its group; shared with the full sample's baseline. */
export const KEY_METRIC: Record<string, Family> = {
  offhook_filesystem_used_ratio: 'filesystem',
  offhook_memory_used_ratio: 'memory',
  node_load1: 'load',
  offhook_cpu_usage_ratio: 'cpu',
};

export function groupKey(family: Family, labels?: Record<string, string>): string {
  return family === 'filesystem' ? `filesystem\u0000${labels?.mountpoint ?? ''}` : family;
}

export interface FastGaugesOptions {
  source?: ProcSource;
  rootfs?: string;
  filesystems: boolean;
  /** The mount table of the latest full sample (re-reading it 4 times a second would be the costliest part). */
  mounts: () => Mount[];
  /** CPU busy ratio is taken over this window (the full interval), so a fast value means what a full one does. */
  cpuWindowMs: number;
  statfsTimeoutMs?: number;
  now?: () => number;
}

interface CpuMark {
  at: number;
  modes: number[];
}

/** Reads only what is cheap: statfs per mount, /proc/meminfo, /proc/loadavg and the first line of /proc/stat. */
export class FastGauges {
  private readonly source: ProcSource;
  private readonly meminfo: ProcFile;
  private readonly loadavg: ProcFile;
  private readonly stat: ProcFile;
  private readonly now: () => number;
  private cpuMarks: CpuMark[] = [];

  constructor(private readonly options: FastGaugesOptions) {
    this.source = options.source ?? liveProc;
    this.now = options.now ?? (() => performance.now());
    this.meminfo = new ProcFile(join(this.source.root, 'meminfo'), 4096);
    this.loadavg = new ProcFile(join(this.source.root, 'loadavg'), 128);
    // The aggregate "cpu" line comes first; a host with hundreds of CPUs need not be read further.
    this.stat = new ProcFile(join(this.source.root, 'stat'), 256, 256);
  }

  async read(): Promise<GaugeGroup[]> {
    const groups: GaugeGroup[] = [];
    const add = (family: Family, points: MetricPoint[], labels?: Record<string, string>): void => {
      const key = points.find((p) => KEY_METRIC[p.name] === family);
      if (key) groups.push({ key: groupKey(family, labels), family, value: key.value, points });
    };
    const memory: MetricPoint[] = [];
    memoryGauges(parseMeminfo(this.meminfo.read()), gaugeSink(memory));
    add('memory', memory);
    const load = parseLoadavg(this.loadavg.read());
    if (load) {
      add('load', [
        { name: 'node_load1', type: 'gauge', value: load.load1 },
        { name: 'node_load5', type: 'gauge', value: load.load5 },
        { name: 'node_load15', type: 'gauge', value: load.load15 },
      ]);
    }
    add('cpu', this.cpu());
    if (this.options.filesystems) {
      const timeoutMs = this.options.statfsTimeoutMs ?? 2000;
      await Promise.all(
        this.options.mounts().map(async (mount) => {
          const points: MetricPoint[] = [];
          await filesystemGauges(this.source, this.options.rootfs, mount, timeoutMs, gaugeSink(points));
          add('filesystem', points, mountLabels(mount));
        }),
      );
    }
    return groups;
  }

  /** Busy ratio from the aggregate line against the oldest mark still inside the window. */
  private cpu(): MetricPoint[] {
    const line = this.stat.read();
    if (!line.startsWith('cpu ')) return [];
    const fields = line
      .slice(4, line.indexOf('\n') >>> 0)
      .trim()
      .split(/\s+/);
    const modes = CPU_MODES.map((_, i) => Number(fields[i] ?? 0) / USER_HZ);
    const at = this.now();
    this.cpuMarks.push({ at, modes });
    // Keep the newest mark at least a window old as the base; drop older ones.
    while (this.cpuMarks.length > 2 && at - this.cpuMarks[1]!.at >= this.options.cpuWindowMs) this.cpuMarks.shift();
    const base = this.cpuMarks[0]!;
    if (base === this.cpuMarks.at(-1)) return [];
    const deltas = modes.map((v, i) => v - base.modes[i]!);
    const total = deltas.reduce((a, b) => a + b, 0);
    // Counters going backwards (a CPU went offline) give no ratio rather than nonsense.
    if (total <= 0 || deltas.some((d) => d < 0)) return [];
    const idle = deltas[CPU_MODES.indexOf('idle')]! + deltas[CPU_MODES.indexOf('iowait')]!;
    return [
      { name: 'offhook_cpu_usage_ratio', type: 'gauge', value: round(1 - idle / total) },
      ...CPU_MODES.map(
        (mode, i): MetricPoint => ({
          name: 'offhook_cpu_mode_ratio',
          type: 'gauge',
          value: round(deltas[i]! / total),
          labels: { mode },
        }),
      ),
    ];
  }

  close(): void {
    for (const file of [this.meminfo, this.loadavg, this.stat]) file.close();
  }
}
