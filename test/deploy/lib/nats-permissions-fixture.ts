import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, errors, type NatsConnection } from '@nats-io/transport-node';
import { connectionOptions, ensureStreams, NatsConfig, streamNames, Subjects } from '../../../shared/index.ts';
import { generateUsers } from '../../../deploy/nats/gen-users.ts';
import { CredentialStore } from '../../../deploy/nats/credentials.ts';
import { agentInboxPrefix } from '../../../deploy/nats/permissions.ts';
import { startNatsServer, type EmbeddedNatsServer } from '../../helpers/nats-server.ts';
import { adaptConfig } from './nats-config.ts';
import { makeTestCertificates, type TestCertificates } from './tls.ts';

// The shipped nats-server.conf with generated users, shared by the permission test files (one server per file).

export const subjects = new Subjects('offhook');
export const names = streamNames(subjects);

/** The error a denied operation ends with, looked up through `cause` chains (JetStream wraps request errors). */
export function permissionError(err: unknown): InstanceType<typeof errors.PermissionViolationError> | undefined {
  for (let e = err as { cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e instanceof errors.PermissionViolationError) return e;
  }
  return undefined;
}

export async function assertDenied(
  action: () => Promise<unknown>,
  operation: 'publish' | 'subscription',
  subject: string,
): Promise<void> {
  let caught: unknown;
  try {
    await action();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, `expected ${operation} to ${subject} to be refused, but it succeeded`);
  const denied = permissionError(caught);
  assert.ok(denied, `expected a permissions violation, got ${String(caught)}`);
  assert.equal(denied.operation, operation);
  assert.equal(denied.subject, subject);
}

export interface PermissionsServer {
  readonly server: EmbeddedNatsServer;
  readonly certs: TestCertificates;
  connectAs(user: string, extra?: Partial<NatsConfig>): Promise<NatsConnection>;
  connectAgent(host: string): Promise<NatsConnection>;
}

/**
 * Registers before/after hooks in the calling describe: a TLS + nkey nats-server as shipped, streams made by the
 * collector.
 */
export function usePermissionsServer(): PermissionsServer {
  let dir: string;
  let certs: TestCertificates;
  let server: EmbeddedNatsServer;
  let credentials: CredentialStore;
  const open: NatsConnection[] = [];

  async function connectAs(user: string, extra: Partial<NatsConfig> = {}): Promise<NatsConnection> {
    const config = NatsConfig.parse({
      servers: [server.url],
      nkey_seed_file: credentials.path(user),
      tls: { ca_file: certs.ca },
      ...extra,
    });
    const nc = await connect({ ...connectionOptions(config, `test-${user}`, true), maxReconnectAttempts: 0 });
    open.push(nc);
    return nc;
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-nats-perms-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    const configFile = adaptConfig(dir, 'nats-server.conf', { certs, storeDir: join(dir, 'jetstream') });
    const generated = generateUsers({
      hosts: ['web1', 'db1'],
      prefix: 'offhook',
      auth: 'nkey',
      secretsDir: join(dir, 'credentials'),
    });
    writeFileSync(join(dir, 'users.conf'), generated.text);
    credentials = new CredentialStore(join(dir, 'credentials'), 'nkey');
    server = await startNatsServer({ configFile, jetstream: false });
    // The collector creates everything at start, with nothing but its own permissions.
    const collector = await connectAs('collector');
    await ensureStreams(collector, subjects);
  });

  after(async function () {
    // Teardown: some connections were closed by the test already.
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await server?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  return {
    get server() {
      return server;
    },
    get certs() {
      return certs;
    },
    connectAs,
    connectAgent: (host) => connectAs(`agent-${host}`, { inbox_prefix: agentInboxPrefix(host) }),
  };
}
