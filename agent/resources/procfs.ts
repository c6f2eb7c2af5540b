/**
 * Parsers for the /proc files the 1 s resource loop reads. Pure functions of the file text, so the
 * golden tests in test/fixtures/proc/ drive them with recorded files. systeminformation forks
 * `cat`/`ps`/`lsblk` for the same data (bench/agent.bench.ts shows the cost); these do not.
 */

/** USER_HZ: Linux reports /proc/stat times in 1/100 s on every architecture we run on. */
export const USER_HZ = 100;
export const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuMode = (typeof CPU_MODES)[number];
export type CpuTimes = Record<CpuMode, number>;

export interface KernelStat {
  /** Per-CPU times in seconds, keyed by CPU number ("0", "1", ...). */
  cpus: Map<string, CpuTimes>;
  contextSwitches?: number;
  interrupts?: number;
  forks?: number;
  procsRunning?: number;
  procsBlocked?: number;
  bootTime?: number;
}

export function parseStat(text: string): KernelStat {
  const stat: KernelStat = { cpus: new Map() };
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const key = fields[0];
    if (!key) continue;
    if (/^cpu\d+$/.test(key)) {
      // Guest time is already included in user/nice, so it is not a mode of its own here (node_exporter does the same).
      const times = {} as CpuTimes;
      for (const [i, mode] of CPU_MODES.entries()) times[mode] = Number(fields[i + 1] ?? 0) / USER_HZ;
      stat.cpus.set(key.slice(3), times);
    } else if (key === 'ctxt') stat.contextSwitches = Number(fields[1]);
    else if (key === 'intr') stat.interrupts = Number(fields[1]);
    else if (key === 'processes') stat.forks = Number(fields[1]);
    else if (key === 'procs_running') stat.procsRunning = Number(fields[1]);
    else if (key === 'procs_blocked') stat.procsBlocked = Number(fields[1]);
    else if (key === 'btime') stat.bootTime = Number(fields[1]);
  }
  return stat;
}

export function parseLoadavg(text: string): { load1: number; load5: number; load15: number } | null {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (![a, b, c].every((n) => Number.isFinite(n))) return null;
  return { load1: a!, load5: b!, load15: c! };
}

/** /proc/meminfo, values in bytes (the kernel writes kB = KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match)
      values.set(
        match[1]!.replace(/[()]/g, '_').replace(/_$/, ''),
        Number(match[2]) * (line.includes('kB') ? 1024 : 1),
      );
  }
  return values;
}

export const NET_FIELDS = ['bytes', 'packets', 'errs', 'drop'] as const;
export interface NetCounters {
  receive: Record<(typeof NET_FIELDS)[number], number>;
  transmit: Record<(typeof NET_FIELDS)[number], number>;
}

export function parseNetDev(text: string): Map<string, NetCounters> {
  const devices = new Map<string, NetCounters>();
  for (const line of text.split('\n').slice(2)) {
    const at = line.indexOf(':');
    if (at < 0) continue;
    const name = line.slice(0, at).trim();
    const v = line
      .slice(at + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    if (v.length < 16 || v.some((n) => !Number.isFinite(n))) continue;
    devices.set(name, {
      receive: { bytes: v[0]!, packets: v[1]!, errs: v[2]!, drop: v[3]! },
      transmit: { bytes: v[8]!, packets: v[9]!, errs: v[10]!, drop: v[11]! },
    });
  }
  return devices;
}

export interface DiskCounters {
  readsCompleted: number;
  readBytes: number;
  readTimeSeconds: number;
  writesCompleted: number;
  writtenBytes: number;
  writeTimeSeconds: number;
  ioNow: number;
  ioTimeSeconds: number;
}

/** node_exporter's default: whole disks only (no partitions, loop or ram devices). */
export const DISK_EXCLUDE = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$/;
const SECTOR_BYTES = 512;

export function parseDiskstats(text: string, exclude: RegExp = DISK_EXCLUDE): Map<string, DiskCounters> {
  const disks = new Map<string, DiskCounters>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const name = f[2]!;
    if (exclude.test(name)) continue;
    const n = f.map(Number);
    disks.set(name, {
      readsCompleted: n[3]!,
      readBytes: n[5]! * SECTOR_BYTES,
      readTimeSeconds: n[6]! / 1000,
      writesCompleted: n[7]!,
      writtenBytes: n[9]! * SECTOR_BYTES,
      writeTimeSeconds: n[10]! / 1000,
      ioNow: n[11]!,
      ioTimeSeconds: n[12]! / 1000,
    });
  }
  return disks;
}

export interface Mount {
  device: string;
  mountpoint: string;
  fstype: string;
}

/** Pseudo and read-only image filesystems, as node_exporter excludes them by default. */
const EXCLUDED_FSTYPES = [
  'autofs',
  'binfmt_misc',
  'bpf',
  'cgroup2?',
  'configfs',
  'debugfs',
  'devpts',
  'devtmpfs',
  'fusectl',
  'hugetlbfs',
  'iso9660',
  'mqueue',
  'nsfs',
  'overlay',
  'proc',
  'procfs',
  'pstore',
  'rpc_pipefs',
  'securityfs',
  'selinuxfs',
  'squashfs',
  'sysfs',
  'tracefs',
  'ramfs',
  'efivarfs',
  'fuse\\.lxcfs',
  'fuse\\.portal',
];
export const FSTYPE_EXCLUDE = new RegExp(`^(${EXCLUDED_FSTYPES.join('|')})$`);
export const MOUNTPOINT_EXCLUDE =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;

const unescapeMount = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMounts(text: string): Mount[] {
  const seen = new Set<string>();
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [device, mountpoint, fstype] = line.split(' ');
    if (!device || !mountpoint || !fstype) continue;
    const mount = { device: unescapeMount(device), mountpoint: unescapeMount(mountpoint), fstype };
    if (FSTYPE_EXCLUDE.test(fstype) || MOUNTPOINT_EXCLUDE.test(mount.mountpoint) || seen.has(mount.mountpoint))
      continue;
    seen.add(mount.mountpoint);
    mounts.push(mount);
  }
  return mounts;
}

export interface ProcessStat {
  pid: number;
  /** Kernel's short name (at most 15 characters). */
  comm: string;
  state: string;
  cpuSeconds: number;
  threads: number;
  rssBytes: number;
}

/** /proc/<pid>/stat: the name is in parentheses and may itself contain ") ", so split at the last one. */
export function parseProcessStat(text: string, pageSize: number): ProcessStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); utime/stime are fields 14/15, num_threads 20, rss 24.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const pid = Number(text.slice(0, open).trim());
  if (!Number.isInteger(pid) || !Number.isFinite(utime)) return null;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    cpuSeconds: (utime + stime) / USER_HZ,
    threads: Number(rest[17]) || 0,
    rssBytes: (Number(rest[21]) || 0) * pageSize,
  };
}
