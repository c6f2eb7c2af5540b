import * as z from 'zod';
import { compileSafeRegex, RegexSource, type CheckStatus, type MetricPoint } from '../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from './types.ts';
import { liveProc, readProcesses, type ProcSource } from '../resources/proc-reader.ts';
import { Bytes } from '../config-types.ts';

const ProcessConfig = CheckBase.extend({
  kind: z.literal('process'),
  /** Exact kernel process name (comm, at most 15 characters), e.g. "nginx". */
  name_is: z.string().min(1).max(15).optional(),
  /** Regex on the full command line, e.g. "java .*-jar /opt/app\\.jar". */
  command: RegexSource.optional(),
  min: z.number().int().nonnegative().default(1),
  max: z.number().int().nonnegative().optional(),
  /** Critical when the matched processes together use more resident memory, e.g. "512MiB". */
  max_rss: Bytes.optional(),
  /**
   * Critical when the matched processes together use more CPU than this (100 = one core), averaged since the last run.
   */
  max_cpu_percent: z.number().positive().optional(),
})
  .strict()
  .refine((c) => c.name_is !== undefined || c.command !== undefined, {
    error: 'expected name_is: or command: (or both) to select processes',
    path: ['name_is'],
  })
  .refine((c) => c.max === undefined || c.max >= c.min, { error: 'expected max >= min', path: ['max'] });

export default definePlugin({
  kind: 'process',
  description:
    'Processes/daemons by exact name (name_is) and/or command-line regex: min/max count, optional max RSS and CPU',
  configSchema: ProcessConfig,
  create(config, source: ProcSource = liveProc) {
    const command = config.command ? compileSafeRegex(config.command, '', 'command') : null;
    const target = [config.name_is && `name=${config.name_is}`, command && `command=/${config.command}/`]
      .filter(Boolean)
      .join(' ');
    let previous: { at: number; cpu: Map<number, number> } | null = null;
    return {
      target,
      async run(): Promise<CheckOutcome> {
        const start = performance.now();
        const all = await readProcesses(source, command !== null);
        // The agent's own command line contains the pattern when it is passed on argv; never count ourselves.
        const matched = all.filter(
          (p) =>
            p.pid !== process.pid &&
            (!config.name_is || p.comm === config.name_is) &&
            (!command || command.test(p.cmdline ?? '')),
        );
        const now = performance.now();
        const rss = matched.reduce((sum, p) => sum + p.rssBytes, 0);
        let cpuPercent: number | null = null;
        if (previous && now > previous.at) {
          let cpuSeconds = 0;
          for (const p of matched) cpuSeconds += Math.max(0, p.cpuSeconds - (previous.cpu.get(p.pid) ?? p.cpuSeconds));
          cpuPercent = Math.round((cpuSeconds / ((now - previous.at) / 1000)) * 1000) / 10;
        }
        previous = { at: now, cpu: new Map(matched.map((p) => [p.pid, p.cpuSeconds])) };
        const metrics: MetricPoint[] = [
          { name: 'offhook_process_count', type: 'gauge', value: matched.length },
          { name: 'offhook_process_resident_memory_bytes', type: 'gauge', value: rss },
        ];
        if (cpuPercent !== null)
          metrics.push({ name: 'offhook_process_cpu_percent', type: 'gauge', value: cpuPercent });
        const problems: string[] = [];
        if (matched.length < config.min) problems.push(`${matched.length} running, expected at least ${config.min}`);
        if (config.max !== undefined && matched.length > config.max)
          problems.push(`${matched.length} running, expected at most ${config.max}`);
        if (config.max_rss !== undefined && rss > config.max_rss)
          problems.push(`RSS ${formatBytes(rss)} above ${formatBytes(config.max_rss)}`);
        if (config.max_cpu_percent !== undefined && cpuPercent !== null && cpuPercent > config.max_cpu_percent)
          problems.push(`CPU ${cpuPercent}% above ${config.max_cpu_percent}%`);
        const status: CheckStatus = problems.length > 0 ? 'critical' : 'ok';
        const pids = matched
          .slice(0, 10)
          .map((p) => p.pid)
          .join(',');
        const message =
          problems.length > 0
            ? problems.join('; ')
            : `${matched.length} running (pid ${pids || '-'}), ` +
              `RSS ${formatBytes(rss)}${cpuPercent !== null ? `, CPU ${cpuPercent}%` : ''}`;
        return { status, message, latencyMs: Math.round((performance.now() - start) * 100) / 100, target, metrics };
      },
    };
  },
});

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
