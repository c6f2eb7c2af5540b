import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { stringify } from 'yaml';
import {
  type Ack,
  type Alert,
  type CallRecord,
  connectionOptions,
  NatsConfig,
  streamNames,
  Subjects,
  freeTcpPort,
} from '../../shared/index.ts';
import { generateUsers } from '../../deploy/nats/gen-users.ts';
import { CredentialStore } from '../../deploy/nats/credentials.ts';
import { agentInboxPrefix } from '../../deploy/nats/permissions.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { adaptConfig } from './lib/nats-config.ts';
import { NatsNode } from './lib/nats-node.ts';
import { makeTestCertificates, type TestCertificates } from './lib/tls.ts';

const OFFHOOK = fileURLToPath(new URL('../../offhook.mjs', import.meta.url));
const subjects = new Subjects('offhook');
const names = streamNames(subjects);

/**
 * The real agent, collector and gateway, each logged in as its own user on a server started from
 * deploy/nats/nats-server.conf: a closed port on web1 becomes an alert, a phone call on the simulated line and an
 * acknowledgement, and nats-server logs not one permissions violation on the way. This is what proves the
 * permissions are enough for the processes as written, not only for the calls the other tests make.
 */
describe('deploy/nats: agent, collector and gateway on the locked-down server', function () {
  this.timeout(90_000);
  let dir: string;
  let certs: TestCertificates;
  let server: NatsNode;
  let credentials: CredentialStore;
  const children: ChildProcess[] = [];
  const output = new Map<string, string>();
  let admin: NatsConnection;

  const natsSection = (user: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    servers: [server.url],
    prefix: 'offhook',
    nkey_seed_file: credentials.path(user),
    tls: { ca_file: certs.ca },
    ...extra,
  });

  function start(name: string, args: string[]): ChildProcess {
    const child = spawnTracked(process.execPath, [OFFHOOK, ...args], {
      cwd: dir,
      env: { ...process.env, LOG_LEVEL: 'info' },
    });
    output.set(name, '');
    const keep = (chunk: Buffer): void => {
      output.set(name, output.get(name)! + chunk.toString());
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    children.push(child);
    return child;
  }

  /** The first message of `stream` matching `accept`, read with the admin user. */
  async function firstMessage<T>(stream: string, accept: (message: T) => boolean, timeoutMs = 60_000): Promise<T> {
    const consumer = await jetstream(admin).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const messages = await consumer.consume();
    const timer = setTimeout(() => messages.stop(), timeoutMs);
    try {
      for await (const msg of messages) {
        const message = msg.json<T>();
        if (accept(message)) return message;
      }
    } finally {
      clearTimeout(timer);
      messages.stop();
    }
    throw new Error(
      `no matching message in ${stream} within ${timeoutMs} ` +
        `ms\n${[...output].map(([n, o]) => `--- ${n}\n${o.slice(-3000)}`).join('\n')}`,
    );
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-e2e-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    const configFile = adaptConfig(dir, 'nats-server.conf', { certs, storeDir: join(dir, 'jetstream') });
    writeFileSync(
      join(dir, 'users.conf'),
      generateUsers({ hosts: ['web1'], prefix: 'offhook', auth: 'nkey', secretsDir: join(dir, 'credentials') }).text,
    );
    credentials = new CredentialStore(join(dir, 'credentials'), 'nkey');
    server = new NatsNode('offhook-e2e', configFile);
    await server.start();
    const adminConfig = NatsConfig.parse(natsSection('admin'));
    admin = await connect({ ...connectionOptions(adminConfig, 'test-admin', true) });
  });

  after(async function () {
    await Promise.all(children.map((child) => killAndWait(child, 'SIGTERM')));
    // Teardown: the connection may already be closed by the test; nothing to check here.
    await admin?.close().catch(() => undefined);
    await server?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('turns a failed check into an alert, a call and a DTMF ack without a permissions violation', async function () {
    const closedPort = await freeTcpPort();
    for (const sub of ['agent', 'gateway']) mkdirSync(join(dir, 'state', sub), { recursive: true });
    const collectorYaml = join(dir, 'collector.yaml');
    writeFileSync(
      collectorYaml,
      stringify({
        nats: natsSection('collector'),
        listen: '127.0.0.1:0',
        evaluation_interval: '500ms',
        rules: [
          {
            name: 'service_down',
            kind: 'check',
            check: '^closed$',
            max_attempts: 1,
            summary: '{host}: {check} is {status}',
          },
        ],
        notifications: {},
      }),
    );
    const gatewayYaml = join(dir, 'gateway.yaml');
    writeFileSync(
      gatewayYaml,
      stringify({
        gateway_host: 'gw1',
        nats: natsSection('gateway'),
        state_dir: join(dir, 'state/gateway'),
        metrics_listen: '127.0.0.1:0',
        line: {
          driver: 'card',
          backend: 'sim',
          sim: {
            speed: 20,
            far_end: [
              { number: '100', answerAfterRings: 1, then: [{ waitForPrompt: true, after: 200 }, { press: '1' }] },
            ],
          },
        },
        people: [{ name: 'alice', number: '100' }],
      }),
    );
    const agentYaml = join(dir, 'agent.yaml');
    writeFileSync(
      agentYaml,
      stringify({
        host: 'web1',
        nats: natsSection('agent-web1', { inbox_prefix: agentInboxPrefix('web1') }),
        state_dir: join(dir, 'state/agent'),
        metrics_listen: '127.0.0.1:0',
        heartbeat_interval: '1s',
        resources: { enabled: false },
        checks: [{ name: 'closed', kind: 'tcp', host: '127.0.0.1', port: closedPort, interval: '1s', timeout: '1s' }],
      }),
    );

    const collector = start('collector', ['collector', '--config', collectorYaml]);
    await waitForOutput(collector, /collector listening on/, 30_000);
    // The gateway's durable consumer delivers only alerts published after it was first created: start it first.
    const gateway = start('gateway', ['gateway', '--config', gatewayYaml]);
    await waitForOutput(gateway, /gateway started/, 30_000);
    start('agent', ['agent', '--config', agentYaml]);

    const alert = await firstMessage<Alert>(names.alerts, (a) => a.rule === 'service_down' && a.status === 'firing');
    assert.equal(alert.host, 'web1');
    const call = await firstMessage<CallRecord>(
      names.calls,
      (c) => c.fingerprints.includes(alert.fingerprint) && c.outcome === 'acknowledged',
    );
    assert.equal(call.number, '100');
    const ack = await firstMessage<Ack>(names.acks, (a) => a.fingerprint === alert.fingerprint);
    assert.equal(ack.method, 'dtmf');

    const jsm = await jetstreamManager(admin);
    assert.ok((await jsm.streams.info(names.events)).state.messages > 0);
    const violations = server.output.split('\n').filter((line) => /Violation/i.test(line));
    assert.deepEqual(violations, [], 'the processes did something their users may not');
  });
});
