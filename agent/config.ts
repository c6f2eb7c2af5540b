import * as z from 'zod';
import {
  AGENT_INTERVAL_MAX_MS,
  AGENT_INTERVAL_MIN_MS,
  type ConfigFileKind,
  Duration,
  hostToken,
  ListenAddress,
  MAX_LOG_LINE_CHARS,
  natsDefaultNotice,
  NatsConfig,
  safeRegexProblem,
  Severity,
  refineUniqueNames,
} from '../shared/index.ts';
import { CheckConfig } from './checks/index.ts';
import { Bytes, DurationAtLeast, DurationBetween } from './config-types.ts';

/** Heartbeat and sampling intervals: the same bounds the wire schemas hold every agent's messages to. */
const AgentInterval = DurationBetween(AGENT_INTERVAL_MIN_MS, AGENT_INTERVAL_MAX_MS, '100ms', '1h');

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

const Band = (max: number) => z.number().positive().max(max);
const DEADBANDS = { filesystem: 0.01, memory: 0.02, load: 0.5, cpu: 0.25 };
const FAST_DEFAULTS = { enabled: true, interval: 250, deadband: DEADBANDS };

/** Report by exception between full samples (agent/README.md "Fast tick"). */
const FastTick = z
  .object({
    enabled: z.boolean().default(true),
    /** How often the cheap gauges (statfs, meminfo, loadavg, the aggregate cpu line) are read. */
    interval: DurationAtLeast(50, '50ms').default(250),
    /** How far a family's key value must move from the last published one before it is published at once. */
    deadband: z
      .object({
        /** offhook_filesystem_used_ratio, per mount: 0.01 = 1 % of the filesystem. */
        filesystem: Band(1).default(DEADBANDS.filesystem),
        /** offhook_memory_used_ratio. */
        memory: Band(1).default(DEADBANDS.memory),
        /** node_load1, absolute. */
        load: Band(1e6).default(DEADBANDS.load),
        /** offhook_cpu_usage_ratio over the last resources.interval. */
        cpu: Band(1).default(DEADBANDS.cpu),
      })
      .strict()
      .default(DEADBANDS),
  })
  .strict();

/**
 * 100 ms: with the collector's default max_attempts 3 an HTTP service that goes down is hard ~0.2 s after the first
 * failed probe (bench e2e: service down -> webhook p50 under 0.8 s at a 1 s check interval; 250 ms gave ~1 s). The
 * number of probes per failure is the same at any retry interval (attempts - 1 = 2 extra); what a shorter one gives
 * up is tolerance: a failure must outlast ~0.2 s instead of ~0.5 s to become hard (agent/README.md, Soft states).
 */
const RETRY_DEFAULTS = { interval: 100, attempts: 3 };

const LogRule = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,200}$/, { error: 'expected a rule name of letters, digits, "_", ".", ":" or "-"' }),
    pattern: z.string().min(1),
    severity: Severity.default('warning'),
    /** Named groups ((?<pid>\d+)) to copy into the match's labels; all named groups when omitted. */
    capture: z
      .array(z.string().regex(LABEL_NAME, { error: 'expected a label name [a-zA-Z_][a-zA-Z0-9_]*' }))
      .optional(),
    /** Ignore case, like grep -i. */
    ignore_case: z.boolean().default(false),
  })
  .strict()
  .superRefine((rule, ctx) => {
    // The rule is named in the message so an operator with twenty rules knows which one to fix.
    const problem = safeRegexProblem(rule.pattern, rule.ignore_case ? 'i' : '');
    if (problem) {
      const syntax = 'expected a valid regular expression ';
      const message = problem.startsWith(syntax)
        ? `${syntax}in rule "${rule.name}": ${problem.slice(syntax.length)}`
        : `${problem} (rule "${rule.name}")`;
      ctx.addIssue({ code: 'custom', path: ['pattern'], message });
    } else if (rule.capture) {
      const groups = new Set([...rule.pattern.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]));
      for (const name of rule.capture)
        if (!groups.has(name))
          ctx.addIssue({
            code: 'custom',
            path: ['capture'],
            message:
              `expected capture names that are named groups of rule "${rule.name}"'s ` +
              `pattern; (?<${name}>...) is missing`,
          });
    }
  });

const LogFile = z
  .object({
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), { error: 'expected an absolute path' }),
    rules: z.array(LogRule).min(1),
    /** Where to begin when there is no saved position: "end" (like tail -F) or "beginning". */
    start_at: z.enum(['end', 'beginning']).default('end'),
    /** Longer lines are cut (and marked truncated) before matching. */
    max_line_chars: z.number().int().min(80).max(MAX_LOG_LINE_CHARS).default(MAX_LOG_LINE_CHARS),
    /**
     * Flood limit per rule: at most `burst` matches at once, refilled at `per_second`; the rest are counted as
     * suppressed.
     */
    rate_limit: z
      .object({ per_second: z.number().positive().default(10), burst: z.number().int().positive().default(50) })
      .strict()
      .default({ per_second: 10, burst: 50 }),
    /** How often the file is stat()ed for growth and rotation (fs.watch wakes it earlier). */
    poll_interval: DurationAtLeast(10, '10ms').default(250),
  })
  .strict();
export type LogFileConfig = z.infer<typeof LogFile>;

export const AgentConfig = z
  .object({
    /** Host name used in subjects; defaults to the machine's. Set it to run several agents on one machine. */
    host: z
      .string()
      .min(1)
      .superRefine((host, ctx) => {
        try {
          hostToken(host);
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: `expected a host name of letters, digits, "-", "_" and "." (${(err as Error).message})`,
          });
        }
      })
      .optional(),
    nats: NatsConfig,
    /** Sequence number, spool and log positions live here; it must survive restarts. */
    state_dir: z.string().min(1).default('/var/lib/offhook/agent'),
    metrics_listen: ListenAddress.default('127.0.0.1:9464'),
    heartbeat_interval: AgentInterval.default(10_000),
    publish_timeout: DurationAtLeast(10, '10ms').default(3000),
    /** Not reaching NATS for this long is logged at error level and shown as offhook_agent_nats_silent (0s = off). */
    nats_silence: Duration.default(60_000),
    spool: z
      .object({ max_bytes: Bytes.default(64 * 1024 * 1024) })
      .strict()
      .default({ max_bytes: 64 * 1024 * 1024 }),
    resources: z
      .object({
        enabled: z.boolean().default(true),
        interval: AgentInterval.default(10_000),
        processes: z.boolean().default(true),
        filesystems: z.boolean().default(true),
        /** statfs each mount point under this prefix (node_exporter's --path.rootfs); see agent/README.md. */
        rootfs: z.string().startsWith('/', 'expected an absolute path').default('/'),
        /** OS and CPU model labels (node_os_info, offhook_cpu_info) change rarely, so they are re-read rarely. */
        inventory_interval: DurationAtLeast(1000, '1s').default(600_000),
        fast: FastTick.default(FAST_DEFAULTS),
      })
      .strict()
      .default({
        enabled: true,
        interval: 10_000,
        processes: true,
        filesystems: true,
        rootfs: '/',
        inventory_interval: 600_000,
        fast: FAST_DEFAULTS,
      }),
    /**
     * Soft states (Nagios retry_interval): after a non-OK result a check runs again after `interval` instead of its
     * own, until `attempts` non-OK results in a row (match the collector's max_attempts), then at its own interval.
     * A check's retry_interval / retry_attempts override these.
     */
    check_retry: z
      .object({
        interval: DurationAtLeast(10, '10ms').default(RETRY_DEFAULTS.interval),
        attempts: z.number().int().min(1).max(100).default(RETRY_DEFAULTS.attempts),
      })
      .strict()
      .default(RETRY_DEFAULTS),
    /**
     * HTTP(S) checks hold their connection between runs and run at once when the server closes it (a crash or
     * restart), at most once per half interval (agent/README.md, Connection watch). A check's connection_watch wins.
     */
    connection_watch: z.boolean().default(true),
    checks: z.array(CheckConfig).default([]),
    logs: z.array(LogFile).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    refineUniqueNames(
      ctx,
      'checks',
      (config.checks as { name: string }[]).map((check) => check.name),
      'check name',
    );
    const paths = new Set<string>();
    config.logs.forEach((log, i) => {
      if (paths.has(log.path))
        ctx.addIssue({
          code: 'custom',
          path: ['logs', i, 'path'],
          message: `expected each file once; put all rules for ${log.path} under one entry`,
        });
      paths.add(log.path);
    });
  });
export type AgentConfig = z.infer<typeof AgentConfig>;

/** agent.yaml as a file: nothing is required beyond a non-empty file, the defaults (resources, heartbeat) are real. */
export const AgentConfigFile: ConfigFileKind<typeof AgentConfig> = {
  schema: AgentConfig,
  label: 'agent',
  essentials: ['nats'],
  notices: (input) => [
    ...natsDefaultNotice(input),
    ...(!('checks' in input) && !('logs' in input)
      ? ['checks, logs: none set; the agent reports resources and heartbeats only']
      : []),
  ],
};
