import type { Command } from 'commander';
import { DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import type { ConfigKinds } from '../deploy/check-config.ts';
import { CallRecord, ConfigError, Subjects, connectNats, hostToken, jetstreamClient, loadConfigFile, silentLogger, streamNames } from '../shared/index.ts';
import { hostname } from 'node:os';
import { GatewayConfig } from './config.ts';
import { controlSubject } from './control.ts';
import { runGatewayProcess } from './main.ts';

/** Config schemas `offhook check-config` knows for the gateway. */
export const gatewayConfigKinds: ConfigKinds = { gateway: GatewayConfig };

const DEFAULT_CONFIG = '/etc/offhook/gateway.yaml';

function fail(err: unknown): never {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `error: ${(err as Error).message}`}\n`);
  process.exit(1);
}

async function connectFor(configFile: string) {
  const config = loadConfigFile(configFile, GatewayConfig);
  const nc = await connectNats(config.nats, { name: 'offhook-cli', logger: silentLogger(), failFast: true });
  return { config, nc, subjects: new Subjects(config.nats.prefix) };
}

/** Prints recent call records from the CALLS stream (newest last). */
async function listCalls(configFile: string, options: { json?: boolean; limit: string }): Promise<void> {
  const { nc, subjects } = await connectFor(configFile);
  const js = jetstreamClient(nc);
  const limit = Math.max(1, Number(options.limit) || 20);
  // Every message in CALLS is a call record, so the last N sequences are the last N calls: no need to read 30 days.
  const stream = await (await jetstreamManager(nc)).streams.info(streamNames(subjects).calls).catch((err: Error) => {
    if (/stream not found/i.test(err.message)) return null;
    throw err;
  });
  if (!stream || stream.state.messages === 0) {
    await nc.close();
    process.stdout.write(options.json ? '[]\n' : 'no calls recorded\n');
    return;
  }
  const startSeq = Math.max(1, stream.state.first_seq, stream.state.last_seq - limit + 1);
  const consumer = await js.consumers.get(streamNames(subjects).calls, { filter_subjects: subjects.allCalls, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq });
  const records: CallRecord[] = [];
  const info = await consumer.info(true);
  let left = info.num_pending;
  if (left > 0) {
    const messages = await consumer.fetch({ max_messages: left, expires: 5000 });
    for await (const msg of messages) {
      const parsed = CallRecord.safeParse(msg.json());
      if (parsed.success) records.push(parsed.data);
      if (--left <= 0) break;
    }
  }
  await nc.close();
  const recent = records.slice(-limit);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(recent, null, 2)}\n`);
    return;
  }
  if (recent.length === 0) process.stdout.write('no calls recorded\n');
  for (const r of recent) {
    const who = r.person ? `${r.person} ${r.number}` : r.number;
    process.stdout.write(`${new Date(r.ts).toISOString()}  ${r.direction.padEnd(8)} ${who.padEnd(28)} ${r.outcome.padEnd(16)} ${String(Math.round(r.durationMs / 1000)).padStart(4)}s  alerts=${r.fingerprints.length}${r.digits ? ` keys=${r.digits}` : ''}${r.error ? `  (${r.error})` : ''}\n`);
  }
}

async function testCall(number: string, options: { config: string }): Promise<void> {
  const { config, nc, subjects } = await connectFor(options.config);
  const gatewayHost = hostToken(config.gateway_host ?? hostname());
  try {
    const reply = await nc.request(controlSubject(subjects, gatewayHost, 'test_call'), JSON.stringify({ number }), { timeout: 10 * 60_000 });
    const result = reply.json() as { ok: boolean; outcome?: string; digits?: string; durationMs?: number; detail?: string; error?: string };
    if (!result.ok) fail(new Error(result.error ?? 'the gateway refused the test call'));
    process.stdout.write(`test call to ${number}: ${result.outcome}${result.digits ? `, keys ${result.digits}` : ''}, ${Math.round((result.durationMs ?? 0) / 1000)} s${result.detail ? ` (${result.detail})` : ''}\n`);
    process.exitCode = result.outcome === 'acknowledged' || result.outcome === 'answered' ? 0 : 2;
  } catch (err) {
    if (/no responders/i.test((err as Error).message)) fail(new Error(`no gateway "${gatewayHost}" is running on this NATS; start it with: offhook gateway --config ${options.config}`));
    throw err;
  } finally {
    await nc.close();
  }
}

export function registerGatewayCommands(program: Command): void {
  program
    .command('gateway')
    .description('Run the telephony gateway: phone people about alerts on the one line, take inbound calls')
    .requiredOption('--config <file>', 'gateway YAML config', DEFAULT_CONFIG)
    .option('--metrics-listen <host:port>', 'serve /metrics here instead of metrics_listen from the config')
    .option('--webhook-listen <host:port>', 'receive Alertmanager webhooks here (needs the alertmanager: section; off by default)')
    .action((options: { config: string; metricsListen?: string; webhookListen?: string }) => runGatewayProcess(options.config, options).catch(fail));
  program
    .command('calls')
    .description('List recent calls from the CALLS stream')
    .option('--config <file>', 'gateway YAML config (for the NATS connection)', DEFAULT_CONFIG)
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many', '20')
    .action((options: { config: string; json?: boolean; limit: string }) => listCalls(options.config, options).catch(fail));
  program
    .command('test-call')
    .description('Ask the running gateway to place one test call (counted in the call budget)')
    .argument('<number>', 'number to dial')
    .option('--config <file>', 'gateway YAML config', DEFAULT_CONFIG)
    .action((number: string, options: { config: string }) => testCall(number, options).catch(fail));
}
