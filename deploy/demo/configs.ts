import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** Everything the demo's configs depend on: where things listen and live. */
export interface DemoLayout {
  dir: string;
  natsUrl: string;
  webUrl: string;
  logPath: string;
  webhookUrl: string;
  collectorListen: string;
  gatewayListen: string;
  agentListens: Record<string, string>;
  speed: number;
  /** The web console's demo login (printed by the demo, hashed into collector.yaml). */
  consoleUser: { name: string; password: string; hash: string };
}

/** The on-call list the simulated line plays out: Bob never picks up, Alice answers and presses 1. */
export const DEMO_PEOPLE = [
  { name: 'bob', number: '5550101', far_end: { number: '5550101', noAnswer: true } },
  {
    name: 'alice',
    number: '5550102',
    far_end: { number: '5550102', answerAfterRings: 2, then: [{ waitForPrompt: 'menu', after: 500 }, { press: '1' }] },
  },
];

function write(path: string, comment: string, config: object): string {
  writeFileSync(path, `# ${comment}\n${stringify(config)}`);
  return path;
}

/** The agent on this machine: its own resources, the demo shop's HTTP check and the demo application log. */
export function writeLocalAgentConfig(layout: DemoLayout, host: string): string {
  return write(join(layout.dir, `${host}-agent.yaml`), 'offhook demo: the agent watching this machine', {
    host,
    nats: { servers: [layout.natsUrl] },
    state_dir: join(layout.dir, 'state', host),
    metrics_listen: layout.agentListens[host],
    heartbeat_interval: '2s',
    resources: { interval: '5s', processes: false },
    checks: [
      {
        name: 'demo-shop',
        kind: 'http',
        url: layout.webUrl,
        expect_status: [200],
        interval: '1s',
        timeout: '1s',
        labels: { service: 'shop' },
      },
    ],
    logs: [
      {
        path: layout.logPath,
        start_at: 'beginning',
        rules: [{ name: 'db-error', pattern: 'ERROR .*database', severity: 'warning' }],
      },
    ],
  });
}

/** A simulated host: a second agent under another host name, sampling this machine and checking NATS' port. */
export function writeSimulatedAgentConfig(layout: DemoLayout, host: string): string {
  const natsPort = Number(new URL(layout.natsUrl).port);
  return write(join(layout.dir, `${host}-agent.yaml`), `offhook demo: simulated host ${host}`, {
    host,
    nats: { servers: [layout.natsUrl] },
    state_dir: join(layout.dir, 'state', host),
    metrics_listen: layout.agentListens[host],
    heartbeat_interval: '2s',
    resources: { interval: '10s', processes: false, filesystems: false },
    checks: [{ name: 'message-bus', kind: 'tcp', host: '127.0.0.1', port: natsPort, interval: '5s' }],
  });
}

export function writeCollectorConfig(layout: DemoLayout): string {
  return write(join(layout.dir, 'collector.yaml'), 'offhook demo: collector with a small default rule set', {
    nats: { servers: [layout.natsUrl] },
    listen: layout.collectorListen,
    evaluation_interval: '1s',
    checkpoint_interval: '5s',
    rules: [
      {
        name: 'shop_down',
        kind: 'check',
        check: '^demo-shop$',
        max_attempts: 2,
        summary: '{host}: the demo shop is not answering',
      },
      { name: 'services', kind: 'check', check: '^message-bus$', max_attempts: 3 },
      {
        name: 'database_errors',
        kind: 'log',
        log_rule: '^db-error$',
        count: 3,
        within: '1m',
        severity: 'warning',
        summary: '{host}: {count} database errors in the application log within {window}',
      },
      { name: 'load_high', kind: 'threshold', metric: 'node_load1', crit: 50, clear_below: 40, for: '1m' },
      { name: 'host_down', kind: 'host_down', missed_heartbeats: 5, severity: 'critical' },
    ],
    console: { users: [{ name: layout.consoleUser.name, password_hash: layout.consoleUser.hash }] },
    notifications: {
      external_url: `http://${layout.collectorListen}`,
      receivers: [{ name: 'demo-webhook', kind: 'webhook', url: layout.webhookUrl }],
      routes: [{ receiver: 'demo-webhook' }],
      fallback_receivers: ['demo-webhook'],
    },
  });
}

export function writeGatewayConfig(layout: DemoLayout): string {
  return write(join(layout.dir, 'gateway.yaml'), 'offhook demo: gateway on the simulated line', {
    gateway_host: 'demo-phonebox',
    nats: { servers: [layout.natsUrl] },
    state_dir: join(layout.dir, 'state', 'gateway'),
    metrics_listen: layout.gatewayListen,
    line: {
      driver: 'card',
      backend: 'sim',
      sim: {
        speed: layout.speed,
        transcript_file: join(layout.dir, 'line-transcript.jsonl'),
        far_end: DEMO_PEOPLE.map((p) => p.far_end),
      },
      answer_timeout: '8s',
    },
    people: DEMO_PEOPLE.map(({ name, number }) => ({ name, number, pin: '1234' })),
    escalation: {
      attempts_per_person: 1,
      retry_delay: '5s',
      round_delay: '10s',
      max_rounds: 2,
      min_severity: 'critical',
    },
    budget: {
      max_calls_per_hour: 10,
      max_calls_per_day: 50,
      per_number: { max_calls_per_minute: 2 },
      cost_per_minute: [{ prefix: '555', cost: 0.1 }],
    },
  });
}
