import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../collector/console/password.ts';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { ensureStreams, freeTcpPort, hostToken, Subjects, type Alert, type CallRecord } from '../../shared/index.ts';
import { EmbeddedNatsServer } from '../lib/embedded-nats.ts';
import {
  writeCollectorConfig,
  writeGatewayConfig,
  writeLocalAgentConfig,
  writeSimulatedAgentConfig,
  type DemoLayout,
} from './configs.ts';
import { LineView } from './line-view.ts';
import { Narrator, type Say } from './narrator.ts';
import { DemoLog, DemoWebService, startWebhookReceiver } from './services.ts';
import { DemoSupervisor } from './supervisor.ts';

export interface DemoOptions {
  keepDir: boolean;
  /** How many times faster than real time the simulated line runs. */
  speed: number;
  /** Play the scripted incident once everything is up. */
  scenario: boolean;
  /** Stop by itself when the scenario is over (used by the demo's test). */
  exitAfterScenario: boolean;
}

const SIMULATED_HOSTS = ['web2-sim', 'db1-sim'];
const STEP_TIMEOUT_MS = 90_000;

const say: Say = (kind, text) => {
  const time = new Date().toISOString().slice(11, 19);
  process.stdout.write(`${time}  ${kind.padEnd(8)} ${text}\n`);
};

function localHostName(): string {
  try {
    return hostToken(hostname());
  } catch {
    return 'this-machine';
  }
}

/** Starts everything, plays the incident, and stops every process it started on Ctrl-C. */
export async function runDemo(options: DemoOptions): Promise<void> {
  // A closed terminal (EPIPE) must not cut the clean-up short and leave processes behind.
  process.stdout.on('error', () => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'offhook-demo-'));
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  // `on`, not `once`: a terminal's Ctrl-C reaches this process twice (from the terminal and relayed by npm); a
  // second signal must not kill the demo halfway through stopping its processes and removing its directory.
  const stopped = new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('Ctrl-C'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });

  const nats = await EmbeddedNatsServer.start({ storeDir: join(dir, 'jetstream') });
  const natsPid = nats.pid ?? 0;
  say('demo', `nats-server (pid ${nats.pid}) on ${nats.url}, JetStream in ${nats.storeDir}`);
  const subjects = new Subjects();
  const nc = await connect({ servers: nats.url, name: 'offhook-demo' });
  await ensureStreams(nc, subjects);

  const web = new DemoWebService();
  await web.start();
  const demoLog = new DemoLog(join(dir, 'shop-app.log'));
  let narrator: Narrator | undefined;
  const webhook = await startWebhookReceiver((payload) => {
    showWebhook(payload);
    narrator?.emit('notify', payload);
  });
  const localHost = localHostName();
  const layout: DemoLayout = {
    dir,
    natsUrl: nats.url,
    webUrl: `http://127.0.0.1:${web.port}/`,
    logPath: demoLog.path,
    webhookUrl: webhook.url,
    collectorListen: `127.0.0.1:${await freeTcpPort()}`,
    gatewayListen: `127.0.0.1:${await freeTcpPort()}`,
    agentListens: {},
    speed: options.speed,
    // A fresh password per run: the console is on loopback, but a fixed one would end up in real configs.
    consoleUser: { name: 'demo', password: randomBytes(9).toString('base64url'), hash: '' },
  };
  layout.consoleUser.hash = await hashPassword(layout.consoleUser.password);
  for (const host of [localHost, ...SIMULATED_HOSTS]) layout.agentListens[host] = `127.0.0.1:${await freeTcpPort()}`;

  narrator = new Narrator(nc, subjects, say);
  narrator.start();
  const lineView = new LineView(join(dir, 'line-transcript.jsonl'), join(dir, 'state', 'gateway', 'speech'), say);
  lineView.start();
  const supervisor = new DemoSupervisor((name, record, raw) => {
    appendFileSync(join(logDir, `${name}.log`), `${raw || JSON.stringify(record)}\n`);
    if (record?.level === 'error' || record?.level === 'fatal') say(name, `ERROR ${String(record.msg ?? raw)}`);
  });
  const started = (name: string, args: string[]): void => {
    const { child } = supervisor.start(name, args);
    say('demo', `started ${name} (pid ${child.pid})`);
  };
  started('collector', ['collector', '--config', writeCollectorConfig(layout)]);
  started('gateway', ['gateway', '--config', writeGatewayConfig(layout)]);
  started(`agent-${localHost}`, ['agent', '--config', writeLocalAgentConfig(layout, localHost)]);
  for (const host of SIMULATED_HOSTS)
    started(`agent-${host}`, ['agent', '--config', writeSimulatedAgentConfig(layout, host)]);

  say('demo', `status page:   http://${layout.collectorListen}/`);
  say(
    'demo',
    `web console:   http://${layout.collectorListen}/console/ (log in as ${layout.consoleUser.name}, password ` +
      `${layout.consoleUser.password})`,
  );
  say(
    'demo',
    `metrics:       collector http://${layout.collectorListen}/metrics, gateway http://${layout.gatewayListen}/metrics`,
  );
  for (const [host, listen] of Object.entries(layout.agentListens))
    say('demo', `               agent ${host} http://${listen}/metrics`);
  say('demo', `files:         configs, logs and the line transcript in ${dir}`);

  let outcome: string;
  try {
    await waitForHeartbeats(nc, subjects, [localHost, ...SIMULATED_HOSTS], stopped);
    say('demo', 'all agents are reporting');
    if (options.scenario) {
      const finished = playScenario(narrator, web, demoLog, localHost);
      outcome = await Promise.race([finished.then(() => 'scenario'), stopped]);
      if (outcome === 'scenario') {
        say('demo', 'scenario complete: alert → notification → call → acknowledgement → recovery');
        if (!options.exitAfterScenario) {
          say('demo', 'everything keeps running; press Ctrl-C to stop');
          outcome = await stopped;
        }
      }
    } else {
      say('demo', 'running without the scripted incident; press Ctrl-C to stop');
      outcome = await stopped;
    }
  } catch (err) {
    say('demo', `FAILED: ${(err as Error).message} (logs in ${logDir})`);
    outcome = 'failure';
    process.exitCode = 1;
  }

  say('demo', `stopping (${outcome})`);
  lineView.stop();
  narrator.stop();
  await supervisor.stopAll();
  await nc.close();
  await webhook.close();
  await web.stop();
  // nats-server stops in milliseconds on SIGTERM; a short grace keeps a stuck one from holding Ctrl-C past 5 s.
  await nats.stop('SIGTERM', 1500);
  if (!options.keepDir && process.exitCode !== 1) rmSync(dir, { recursive: true, force: true });
  say('demo', `stopped ${supervisor.pids().length + 1} processes (pids ${[...supervisor.pids(), natsPid].join(' ')})`);
}

async function waitForHeartbeats(
  nc: import('@nats-io/transport-node').NatsConnection,
  subjects: Subjects,
  hosts: string[],
  stopped: Promise<string>,
): Promise<void> {
  const waiting = new Set(hosts);
  const subscription = nc.subscribe(subjects.allHeartbeats);
  const seen = (async () => {
    for await (const msg of subscription) {
      waiting.delete(subjects.parse(msg.subject)?.type === 'heartbeat' ? msg.subject.split('.').pop()! : '');
      if (waiting.size === 0) break;
    }
  })();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no heartbeat from ${[...waiting].join(', ')} within 60 s`)), 60_000).unref(),
  );
  try {
    const result = await Promise.race([seen.then(() => 'ok'), stopped, timeout]);
    if (result !== 'ok') throw new Error(`interrupted (${result})`);
  } finally {
    subscription.unsubscribe();
  }
}

/**
 * The incident: the shop goes down (phone call, acknowledged by key), comes back, then the log fills with database
 * errors.
 */
async function playScenario(narrator: Narrator, web: DemoWebService, demoLog: DemoLog, host: string): Promise<void> {
  say('step', `1/3 stopping the demo shop on port ${web.port}: the agent's HTTP check on ${host} will fail`);
  const firing = narrator.waitFor<Alert>(
    'alert',
    (a) => a.rule === 'shop_down' && a.status === 'firing',
    STEP_TIMEOUT_MS,
    'shop_down alert',
  );
  await web.stop();
  const alert = await firing;
  const acknowledged = narrator.waitFor<CallRecord>(
    'call',
    (c) => c.outcome === 'acknowledged' && c.fingerprints.includes(alert.fingerprint),
    STEP_TIMEOUT_MS,
    'acknowledged call',
  );
  await acknowledged;
  // The acknowledged call record already proves the ack; its own message is only narrated if it shows up in time.
  await narrator
    .waitFor(
      'ack',
      (a: { fingerprint: string }) => a.fingerprint === alert.fingerprint,
      STEP_TIMEOUT_MS,
      'acknowledgement',
    )
    .catch(() => undefined);

  say('step', '2/3 the on-call person fixed it: starting the demo shop again');
  const resolved = narrator.waitFor<Alert>(
    'alert',
    (a) => a.fingerprint === alert.fingerprint && a.status === 'resolved',
    STEP_TIMEOUT_MS,
    'recovery',
  );
  await web.start();
  await resolved;

  say('step', '3/3 the application logs database errors: a warning goes to the notifiers, not to the phone');
  const logAlert = narrator.waitFor<Alert>(
    'alert',
    (a) => a.rule === 'database_errors' && a.status === 'firing',
    STEP_TIMEOUT_MS,
    'database_errors alert',
  );
  const notified = narrator.waitFor<WebhookPayload>(
    'notify',
    (p) => p?.alerts?.some((a) => a.labels?.alertname === 'database_errors') === true,
    STEP_TIMEOUT_MS,
    'webhook notification',
  );
  for (const problem of ['connection lost', 'connection lost', 'deadlock detected'])
    demoLog.write(`ERROR [shop] database ${problem}`);
  await Promise.all([logAlert, notified]);
}

type WebhookPayload = {
  status?: string;
  receiver?: string;
  alerts?: { labels?: Record<string, string>; annotations?: Record<string, string> }[];
} | null;

function showWebhook(payload: unknown): void {
  const body = payload as WebhookPayload;
  if (!body || !Array.isArray(body.alerts)) return say('notify', 'webhook received a payload it could not read');
  const first = body.alerts[0];
  say(
    'notify',
    `webhook "${body.receiver}": ${String(body.status).toUpperCase()} ${body.alerts.length} ` +
      `alert(s): ${first?.annotations?.summary ?? first?.labels?.alertname ?? ''}`,
  );
}
