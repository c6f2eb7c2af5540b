import type { Command } from 'commander';
import { z } from 'zod';
import {
  CollectorStatus, connectNats, GatewayStatus, loadConfigFile, NatsConfig, silentLogger, Subjects, type NatsConnection,
} from '../shared/index.ts';

const OnlyNats = z.object({ nats: NatsConfig }).loose();
const GATEWAY_WAIT_MS = 1500;

export interface StatusReport {
  collector: CollectorStatus | null;
  gateways: GatewayStatus[];
  problems: string[];
}

/** Asks every running collector (one answers) and every gateway (all answer) over NATS. */
export async function gatherStatus(nc: NatsConnection, subjects: Subjects): Promise<StatusReport> {
  const problems: string[] = [];
  let collector: CollectorStatus | null = null;
  try {
    const reply = await nc.request(subjects.statusRequest('collector'), '', { timeout: 3000 });
    const parsed = CollectorStatus.safeParse(reply.json());
    if (parsed.success) collector = parsed.data;
    else problems.push('the collector sent a status this version cannot read (mixed versions?)');
  } catch (err) {
    problems.push(`no collector answered (${(err as Error).message}): alerts are not being evaluated`);
  }
  const gateways: GatewayStatus[] = [];
  try {
    for await (const msg of await nc.requestMany(subjects.statusRequest('gateway'), '', { strategy: 'timer', maxWait: GATEWAY_WAIT_MS })) {
      const parsed = GatewayStatus.safeParse(msg.json());
      if (parsed.success) gateways.push(parsed.data);
    }
  } catch (err) {
    // "no responders" is the answer we check for below; anything else is worth saying.
    if (!/no responders/i.test((err as Error).message)) problems.push(`asking the gateways failed: ${(err as Error).message}`);
  }
  if (gateways.length === 0) problems.push('no telephony gateway answered: nobody will be phoned');
  return { collector, gateways, problems };
}

const clean = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');

function ago(now: number, at: number): string {
  if (at <= 0) return 'never';
  const seconds = Math.max(0, Math.round((now - at) / 1000));
  return seconds < 120 ? `${seconds}s ago` : seconds < 7200 ? `${Math.round(seconds / 60)}m ago` : `${Math.round(seconds / 3600)}h ago`;
}

export function formatStatus(report: StatusReport, now = Date.now()): string {
  const lines: string[] = [];
  const { collector } = report;
  if (collector) {
    const down = collector.hosts.filter((h) => h.down);
    lines.push(`hosts: ${collector.hosts.length} known, ${down.length} down${down.length ? ` (${down.map((h) => h.host).join(', ')})` : ''}`);
    for (const host of collector.hosts) lines.push(`  ${host.down ? 'DOWN' : 'up  '}  ${host.host.padEnd(24)} heartbeat ${ago(now, host.lastHeartbeatAt)}, agent ${clean(host.agentVersion) || '?'}`);
    lines.push(`firing alerts: ${collector.firing.length}${collector.silences ? `, ${collector.silences} active silence(s)` : ''}`);
    for (const alert of collector.firing) {
      const flags = [alert.acknowledged && 'acked', alert.silenced && 'silenced', alert.inhibited && 'inhibited'].filter(Boolean).join(',');
      lines.push(`  ${alert.severity.padEnd(8)} ${alert.fingerprint}  ${clean(alert.summary)}${flags ? ` [${flags}]` : ''} (since ${ago(now, alert.startsAt)})`);
    }
  }
  for (const gateway of report.gateways) {
    const line = gateway.line.up ? (gateway.line.busy ? 'in a call' : 'idle') : 'DOWN';
    lines.push(`gateway ${gateway.gatewayHost}: line ${gateway.line.driver} ${line}, ${gateway.queue.length} alert(s) waiting for a call`);
    const budget = Object.entries(gateway.budget).map(([limit, left]) => `${limit.replace(/_/g, ' ')} ${left === null ? 'unlimited' : Number(left.toFixed(2))}`);
    lines.push(`  budget left: ${budget.join(', ')}`);
    const watch = gateway.watchdog;
    if (watch && !watch.enabled) lines.push('  watchdog: off');
    else if (watch && watch.blind.length === 0) lines.push('  watchdog: offhook sees (NATS, collectors, canary)');
    else if (watch) lines.push(`  watchdog: BLIND (${watch.blind.join(', ')}), incident ${watch.incident ?? 'none'}`);
    for (const entry of gateway.queue) lines.push(`  queued ${entry.severity.padEnd(8)} ${entry.host} ${clean(entry.rule)} (round ${entry.round + 1})`);
  }
  for (const problem of report.problems) lines.push(`WARNING: ${problem}`);
  return `${lines.join('\n')}\n`;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Hosts, firing alerts, line state and call budget, asked of the running collector and gateways over NATS')
    .option('--nats <url>', 'NATS server', 'nats://127.0.0.1:4222')
    .option('--config <file>', 'take the nats: section from this offhook config instead')
    .option('--json', 'print JSON')
    .action(async (options: { nats: string; config?: string; json?: boolean }) => {
      try {
        const natsConfig = options.config ? loadConfigFile(options.config, OnlyNats).nats : NatsConfig.parse({ servers: [options.nats] });
        const nc = await connectNats(natsConfig, { name: 'offhook-status', logger: silentLogger(), failFast: true });
        try {
          const report = await gatherStatus(nc, new Subjects(natsConfig.prefix));
          process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report));
          // Scripts and cron checks can rely on the exit code: 2 when a component is missing.
          process.exitCode = report.problems.length > 0 ? 2 : 0;
        } finally {
          await nc.close();
        }
      } catch (err) {
        process.stderr.write(`offhook status: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
