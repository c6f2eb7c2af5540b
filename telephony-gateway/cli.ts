import type { Command } from 'commander';
import { DeliverPolicy, jetstreamManager } from '@nats-io/jetstream';
import {
  addNatsOptions,
  CallRecord,
  connectCliNats,
  describeCliNats,
  describeError,
  EXIT_FAILURE,
  EXIT_OK,
  exitCodeFor,
  hostToken,
  jetstreamClient,
  resolveCliNats,
  streamNames,
  Subjects,
  type NatsConnection,
  type NatsFlags,
} from '../shared/index.ts';
import type { ConfigKinds } from '../shared/index.ts';
import { hostname } from 'node:os';
import { GatewayConfigFile } from './config.ts';
import { controlSubject } from './line/control.ts';
import { runGatewayProcess } from './main.ts';

/** Config schemas `offhook check-config` knows for the gateway. */
export const gatewayConfigKinds: ConfigKinds = { gateway: GatewayConfigFile };

const DEFAULT_CONFIG = '/etc/offhook/gateway.yaml';

const GATEWAY_WAIT_MS = 1500;

/** Config errors and bad flags exit 2, everything else 1 (README, Exit codes); one line, no stack trace. */
function fail(err: unknown): never {
  process.stderr.write(`${describeError(err)}\n`);
  process.exit(exitCodeFor(err));
}

/** The NATS the operator meant: flags, NATS_URL, --config (default /etc/offhook/gateway.yaml when it exists). */
async function connectFor(options: NatsFlags, json = false) {
  const resolved = resolveCliNats(options, process.env, DEFAULT_CONFIG);
  const asked = describeCliNats(resolved);
  (json ? process.stderr : process.stdout).write(`NATS ${asked}\n`);
  const nc = await connectCliNats(resolved, 'offhook-cli');
  return { resolved, asked, nc, subjects: new Subjects(resolved.nats.prefix) };
}

/** How many gateways answer a status request (all do, so this waits GATEWAY_WAIT_MS). */
async function gatewaysAnswering(nc: NatsConnection, subjects: Subjects): Promise<number> {
  let count = 0;
  try {
    const wait = { strategy: 'timer', maxWait: GATEWAY_WAIT_MS } as const;
    const replies = await nc.requestMany(subjects.statusRequest('gateway'), '', wait);
    for await (const _reply of replies) count += 1;
  } catch {
    // "no responders": no gateway, which is the count of zero the caller reports.
  }
  return count;
}

/**
 * Prints recent call records from the CALLS stream (newest last). Exits 1 when no gateway answers: the history is
 * still printed (it matters most after a gateway died), but an empty list is never an all clear from nobody.
 */
async function listCalls(options: NatsFlags & { json?: boolean; limit: string }): Promise<void> {
  const { nc, subjects, asked } = await connectFor(options, options.json === true);
  const gateways = await gatewaysAnswering(nc, subjects);
  if (gateways === 0) {
    const hint = 'is the gateway running, on this server and prefix?';
    process.stderr.write(`no telephony gateway answered at ${asked}: nobody is being phoned (${hint})\n`);
    process.exitCode = EXIT_FAILURE;
  }
  const js = jetstreamClient(nc);
  const limit = Math.max(1, Number(options.limit) || 20);
  // Every message in CALLS is a call record, so the last N sequences are the last N calls: no need to read 30 days.
  const stream = await (await jetstreamManager(nc)).streams.info(streamNames(subjects).calls).catch((err: Error) => {
    if (/stream not found/i.test(err.message)) return null;
    throw err;
  });
  if (!stream) {
    await nc.close();
    throw new Error(`no CALLS stream at ${asked}: no gateway has run against this server and prefix`);
  }
  if (stream.state.messages === 0) {
    await nc.close();
    process.stdout.write(options.json ? '[]\n' : 'no calls recorded\n');
    return;
  }
  const startSeq = Math.max(1, stream.state.first_seq, stream.state.last_seq - limit + 1);
  const consumer = await js.consumers.get(streamNames(subjects).calls, {
    filter_subjects: subjects.allCalls,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  });
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
    const seconds = String(Math.round(r.durationMs / 1000)).padStart(4);
    // Records from gateways older than the currency field show the bare number.
    const cost = `cost=${r.estimatedCost.toFixed(2)}${r.currency ? ` ${r.currency}` : ''}`;
    const keys = r.digits ? ` keys=${r.digits}` : '';
    const when = new Date(r.ts).toISOString();
    const columns = `${when}  ${r.direction.padEnd(8)} ${who.padEnd(28)} ${r.outcome.padEnd(16)} ${seconds}s`;
    process.stdout.write(
      `${columns}  alerts=${r.fingerprints.length}${keys} ${cost}${r.error ? `  (${r.error})` : ''}\n`,
    );
  }
}

async function testCall(number: string, options: NatsFlags & { gateway?: string }): Promise<void> {
  const { resolved, nc, subjects } = await connectFor(options);
  const configured = typeof resolved.file.gateway_host === 'string' ? resolved.file.gateway_host : undefined;
  const gatewayHost = hostToken(options.gateway ?? configured ?? hostname());
  try {
    const reply = await nc.request(controlSubject(subjects, gatewayHost, 'test_call'), JSON.stringify({ number }), {
      timeout: 10 * 60_000,
    });
    const result = reply.json() as {
      ok: boolean;
      outcome?: string;
      digits?: string;
      durationMs?: number;
      detail?: string;
      error?: string;
    };
    if (!result.ok) fail(new Error(result.error ?? 'the gateway refused the test call'));
    process.stdout.write(
      `test call to ${number}: ${result.outcome}${result.digits ? `, keys ${result.digits}` : ''}, ` +
        `${Math.round((result.durationMs ?? 0) / 1000)} s${result.detail ? ` (${result.detail})` : ''}\n`,
    );
    process.exitCode = result.outcome === 'acknowledged' || result.outcome === 'answered' ? EXIT_OK : EXIT_FAILURE;
  } catch (err) {
    if (/no responders/i.test((err as Error).message))
      fail(
        new Error(
          `no gateway "${gatewayHost}" is running on this NATS; start it with: ` +
            `offhook gateway --config ${options.config ?? DEFAULT_CONFIG}`,
        ),
      );
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
    .option(
      '--webhook-listen <host:port>',
      'receive Alertmanager webhooks here (needs the alertmanager: section; off by default)',
    )
    .action((options: { config: string; metricsListen?: string; webhookListen?: string }) =>
      runGatewayProcess(options.config, options),
    );
  addNatsOptions(
    program.command('calls').description('List recent calls from the CALLS stream; exits 1 when no gateway answers'),
    `gateway YAML config for the NATS connection (default ${DEFAULT_CONFIG} when it exists)`,
  )
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many', '20')
    .action((options: NatsFlags & { json?: boolean; limit: string }) => listCalls(options).catch(fail));
  addNatsOptions(
    program
      .command('test-call')
      .description('Ask the running gateway to place one test call (counted in the call budget)')
      .argument('<number>', 'number to dial'),
    `gateway YAML config: NATS connection and gateway_host (default ${DEFAULT_CONFIG} when it exists)`,
  )
    .option('--gateway <name>', "the gateway_host to ask (else the config file's, else this machine's name)")
    .action((number: string, options: NatsFlags & { gateway?: string }) => testCall(number, options).catch(fail));
}
