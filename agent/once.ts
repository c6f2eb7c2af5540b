import { accessSync, constants } from 'node:fs';
import { silentLogger, type CheckStatus } from '../shared/index.ts';
import type { AgentConfig } from './config.ts';
import { pluginFor, type CheckConfig, type CheckOutcome } from './checks/index.ts';
import { CheckScheduler, type ScheduledCheck } from './core/scheduler.ts';
import { ResourceSampler } from './resources/sampler.ts';

const EXIT_CODE: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };
/** A plugin that could not run (here: a config that does not load) is UNKNOWN, never CRITICAL. */
export const NAGIOS_UNKNOWN = EXIT_CODE.unknown;
/**
 * Which status wins when several are combined, as Nagios aggregators (check_multi, check_cluster) rank them:
 * a host with a CRITICAL check is CRITICAL even when another check could not tell (UNKNOWN); UNKNOWN only
 * beats OK. The exit codes' numeric order would put UNKNOWN (3) above CRITICAL (2).
 */
const RANK: Record<CheckStatus, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

export function worstStatus(a: CheckStatus, b: CheckStatus): CheckStatus {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * `offhook agent --config FILE --once`: run every check once, take one resource sample, check that
 * the log files are readable, print the results and exit with the worst status the Nagios way
 * (0 ok, 1 warning, 2 critical, 3 unknown; worst ranked critical > warning > unknown > ok). Needs no NATS; for
 * trying out a config on a host.
 */
export async function runOnce(config: AgentConfig, write: (line: string) => void): Promise<number> {
  const results: { check: CheckConfig; outcome: CheckOutcome }[] = [];
  const checks: ScheduledCheck[] = (config.checks as CheckConfig[]).map((check) => ({
    config: check,
    instance: pluginFor(check.kind)!.create(check),
  }));
  const scheduler = new CheckScheduler(
    checks,
    (check, outcome) => results.push({ check: check.config, outcome }),
    silentLogger(),
  );
  await Promise.all(checks.map((check) => scheduler.runOnce(check)));
  scheduler.stop();
  let worst: CheckStatus = 'ok';
  const width = Math.max(5, ...checks.map((c) => c.config.name.length));
  for (const { check, outcome } of results.sort((a, b) => a.check.name.localeCompare(b.check.name))) {
    worst = worstStatus(worst, outcome.status);
    const latency = outcome.latencyMs === null ? '-' : `${outcome.latencyMs} ms`;
    write(
      `${outcome.status.toUpperCase().padEnd(8)} ${check.name.padEnd(width)} ` +
        `${check.kind.padEnd(7)} ${latency.padStart(10)}  ${outcome.message}`,
    );
  }
  if (config.resources.enabled) {
    const points = await new ResourceSampler({
      processes: config.resources.processes,
      filesystems: config.resources.filesystems,
      rootfs: config.resources.rootfs,
    }).sample();
    const pick = (name: string): string => String(points.find((p) => p.name === name)?.value ?? '-');
    write(
      `resources: ${points.length} metrics (load1 ${pick('node_load1')}, ` +
        `memory used ${pick('offhook_memory_used_ratio')}, processes ${pick('node_processes_pids')})`,
    );
  }
  for (const log of config.logs) {
    try {
      accessSync(log.path, constants.R_OK);
      write(`log ${log.path}: readable, ${log.rules.length} rule(s)`);
    } catch (err) {
      worst = worstStatus(worst, 'warning');
      write(
        `log ${log.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} ` +
          `(the agent waits for it to appear)`,
      );
    }
  }
  return EXIT_CODE[worst];
}
