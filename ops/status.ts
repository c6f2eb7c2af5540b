import type { Command } from 'commander';
import {
  addNatsOptions,
  CollectorStatus,
  connectCliNats,
  describeCliNats,
  EXIT_FAILURE,
  EXIT_OK,
  GatewayStatus,
  reportError,
  resolveCliNats,
  Subjects,
  type NatsConnection,
  type NatsFlags,
} from '../shared/index.ts';
const GATEWAY_WAIT_MS = 1500;
const COLLECTOR_STALL_MS = 300;

export interface StatusReport {
  collector: CollectorStatus | null;
  gateways: GatewayStatus[];
  problems: string[];
}

/**
 * A collector group's members each know the hosts and alerts of the partitions they hold: their answers together
 * are the whole picture. Partition owners come from the leases, so any member's list will do.
 */
export function mergeCollectorStatus(answers: CollectorStatus[]): CollectorStatus | null {
  if (answers.length <= 1) return answers[0] ?? null;
  const hosts = new Map(answers.flatMap((a) => a.hosts.map((h) => [h.host, h] as const)));
  const firing = new Map(answers.flatMap((a) => a.firing.map((f) => [f.fingerprint, f] as const)));
  // Each member sees the others' leases as of its last round; the holder's own entry (furthest read) wins.
  const byPartition = new Map<number, NonNullable<CollectorStatus['partitions']>[number]>();
  for (const entry of answers.flatMap((a) => a.partitions ?? [])) {
    const known = byPartition.get(entry.partition);
    const better = !known || (entry.member !== null && (known.member === null || entry.seq > known.seq));
    if (better) {
      byPartition.set(entry.partition, entry);
    }
  }
  const partitions = [...byPartition.values()].sort((x, y) => x.partition - y.partition);
  return {
    ...answers[0]!,
    node: answers.map((a) => a.node).join(', '),
    hosts: [...hosts.values()].sort((x, y) => x.host.localeCompare(y.host)),
    firing: [...firing.values()],
    silences: Math.max(...answers.map((a) => a.silences)),
    ...(partitions.length > 0 ? { partitions } : {}),
  };
}

/** Asks every running collector (each member of a group answers) and every gateway over NATS. */
export async function gatherStatus(nc: NatsConnection, subjects: Subjects): Promise<StatusReport> {
  const problems: string[] = [];
  const answers: CollectorStatus[] = [];
  let unreadable = 0;
  try {
    // Replies stop coming once none arrived for `stall`: a lone collector answers at once, a group within it.
    const replies = await nc.requestMany(subjects.statusRequest('collector'), '', {
      strategy: 'stall',
      stall: COLLECTOR_STALL_MS,
      maxWait: 3000,
    });
    for await (const reply of replies) {
      const parsed = CollectorStatus.safeParse(reply.json());
      if (parsed.success) answers.push(parsed.data);
      else unreadable += 1;
    }
  } catch (err) {
    // "no responders" is the answer we check for below; anything else is worth saying.
    if (!/no responders/i.test((err as Error).message))
      problems.push(`asking the collectors failed: ${(err as Error).message}`);
  }
  if (unreadable > 0) problems.push('a collector sent a status this version cannot read (mixed versions?)');
  else if (answers.length === 0) problems.push('no collector answered: alerts are not being evaluated');
  const collector = mergeCollectorStatus(answers);
  const orphans = collector?.partitions?.filter((p) => p.member === null).length ?? 0;
  if (orphans > 0) problems.push(`${orphans} partition(s) have no collector: their hosts are not being evaluated`);
  const gateways: GatewayStatus[] = [];
  try {
    for await (const msg of await nc.requestMany(subjects.statusRequest('gateway'), '', {
      strategy: 'timer',
      maxWait: GATEWAY_WAIT_MS,
    })) {
      const parsed = GatewayStatus.safeParse(msg.json());
      if (parsed.success) gateways.push(parsed.data);
    }
  } catch (err) {
    // "no responders" is the answer we check for below; anything else is worth saying.
    if (!/no responders/i.test((err as Error).message))
      problems.push(`asking the gateways failed: ${(err as Error).message}`);
  }
  if (gateways.length === 0) problems.push('no telephony gateway answered: nobody will be phoned');
  return { collector, gateways, problems };
}

const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

function ago(now: number, at: number): string {
  if (at <= 0) return 'never';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  return seconds < 120
    ? `${seconds}s ago`
    : seconds < 7200
      ? `${Math.round(seconds / 60)}m ago`
      : `${Math.round(seconds / 3600)}h ago`;
}

export function formatStatus(report: StatusReport, now = Date.now()): string {
  const lines: string[] = [];
  const { collector } = report;
  if (collector) {
    const down = collector.hosts.filter((h) => h.down);
    lines.push(
      `hosts: ${collector.hosts.length} known, ` +
        `${down.length} down${down.length ? ` (${down.map((h) => h.host).join(', ')})` : ''}`,
    );
    for (const host of collector.hosts)
      lines.push(
        `  ${host.down ? 'DOWN' : 'up  '}  ${host.host.padEnd(24)} heartbeat ` +
          `${ago(now, host.lastHeartbeatAt)}, agent ${clean(host.agentVersion) || '?'}`,
      );
    lines.push(
      `firing alerts: ` +
        `${collector.firing.length}${collector.silences ? `, ${collector.silences} active silence(s)` : ''}`,
    );
    for (const alert of collector.firing) {
      const flags = [
        alert.untold,
        alert.acknowledged && 'acked',
        alert.silenced && 'silenced',
        alert.inhibited && 'inhibited',
      ]
        .filter(Boolean)
        .join(',');
      lines.push(
        `  ${alert.severity.padEnd(8)} ${alert.fingerprint}  ` +
          `${clean(alert.summary)}${flags ? ` [${flags}]` : ''} (since ${ago(now, alert.startsAt)})`,
      );
    }
    const partitions = collector.partitions ?? [];
    if (partitions.length > 1) {
      const orphans = partitions.filter((p) => p.member === null).length;
      lines.push(`partitions: ${partitions.length}${orphans ? `, ${orphans} without an owner` : ''}`);
      for (const p of partitions)
        lines.push(`  ${String(p.partition).padStart(3)}  ${clean(p.member ?? 'NONE').padEnd(24)} lag ${p.lag}`);
    }
  }
  for (const gateway of report.gateways) {
    const line = gateway.line.up ? (gateway.line.busy ? 'in a call' : 'idle') : 'DOWN';
    lines.push(
      `gateway ${gateway.gatewayHost}: line ${gateway.line.driver} ${line}, ` +
        `${gateway.queue.length} alert(s) waiting for a call`,
    );
    const unit = (limit: string): string =>
      limit === 'cost_per_day' && gateway.currency ? ` ${clean(gateway.currency)}` : '';
    const budget = Object.entries(gateway.budget).map(([limit, left]) => {
      const shown = left === null ? 'unlimited' : `${Number(left.toFixed(2))}${unit(limit)}`;
      return `${limit.replace(/_/g, ' ')} ${shown}`;
    });
    lines.push(`  budget left: ${budget.join(', ')}`);
    const watch = gateway.watchdog;
    if (watch && !watch.enabled) lines.push('  watchdog: off');
    else if (watch && watch.blind.length === 0) lines.push('  watchdog: offhook sees (NATS, collectors, canary)');
    else if (watch) lines.push(`  watchdog: BLIND (${watch.blind.join(', ')}), incident ${watch.incident ?? 'none'}`);
    for (const entry of gateway.queue)
      lines.push(`  queued ${entry.severity.padEnd(8)} ${entry.host} ${clean(entry.rule)} (round ${entry.round + 1})`);
  }
  for (const problem of report.problems) lines.push(`WARNING: ${problem}`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  addNatsOptions(
    program
      .command('status')
      .description('Hosts, firing alerts, line state and call budget, asked of the running collector and gateways'),
  )
    .option('--json', 'print JSON')
    .action(async (options: NatsFlags & { json?: boolean }) => {
      try {
        const resolved = resolveCliNats(options);
        const asked = describeCliNats(resolved);
        const nc = await connectCliNats(resolved, 'offhook-status');
        try {
          const report = await gatherStatus(nc, new Subjects(resolved.nats.prefix));
          if (options.json) {
            process.stderr.write(`NATS ${asked}\n`);
            process.stdout.write(`${JSON.stringify({ ...report, nats: asked }, null, 2)}\n`);
          } else {
            process.stdout.write(`NATS ${asked}\n${formatStatus(report)}`);
          }
          // Scripts and cron checks can rely on the exit code: 1 when a component is missing (README, Exit codes).
          process.exitCode = report.problems.length > 0 ? EXIT_FAILURE : EXIT_OK;
        } finally {
          await nc.close();
        }
      } catch (err) {
        reportError(err, 'offhook status: ');
      }
    });
}
