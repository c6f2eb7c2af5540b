import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { encodeMessage, Subjects } from '../../shared/index.ts';
import { generateUsers } from '../../deploy/nats/gen-users.ts';
import { startNatsServer } from '../helpers/nats-server.ts';
import { adaptConfig, NATS_DEPLOY_DIR } from './lib/nats-config.ts';
import { makeTestCertificates } from './lib/tls.ts';
import * as wire from './lib/messages.ts';

const run = promisify(execFile);
const subjects = new Subjects('offhook');

describe('deploy/nats/gen-users.ts', function () {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-gen-users-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps existing credentials when re-run with another host, so deployed agents keep working', function () {
    const secretsDir = join(dir, 'secrets');
    const first = generateUsers({ hosts: ['web1'], prefix: 'offhook', auth: 'nkey', secretsDir });
    const web1Key = /# agent-web1\n {2}\{\n {4}nkey: "(U[A-Z0-9]+)"/.exec(first.text)?.[1];
    assert.ok(web1Key, 'agent-web1 has an nkey user');
    const second = generateUsers({ hosts: ['web1', 'db1'], prefix: 'offhook', auth: 'nkey', secretsDir });
    assert.ok(second.text.includes(`nkey: "${web1Key}"`), 'web1 kept its key');
    assert.match(second.text, /# agent-db1\n {2}\{\n {4}nkey: "U[A-Z0-9]+"/);
    assert.equal(
      statSync(join(secretsDir, 'agent-db1.nk')).mode & 0o777,
      0o600,
      'seeds are readable by their owner only',
    );
  });

  it('refuses host names that are not tokens or that collide after mapping', function () {
    assert.throws(
      () => generateUsers({ hosts: ['web*'], prefix: 'offhook', auth: 'nkey', example: true }),
      /invalid host name "web\*"/,
    );
    assert.throws(
      () =>
        generateUsers({
          hosts: ['web1.example.com', 'web1_example_com'],
          prefix: 'offhook',
          auth: 'nkey',
          example: true,
        }),
      /both map to the subject token "web1_example_com"/,
    );
  });

  it('uses the prefix in every subject and stream name', function () {
    const { text } = generateUsers({ hosts: ['web1'], prefix: 'mon', auth: 'nkey', example: true });
    assert.match(text, /"mon\.v1\.events\.web1\.>"/);
    assert.match(text, /"\$JS\.API\.STREAM\.CREATE\.MON_EVENTS"/);
    assert.match(text, /"\$KV\.mon-alerts\.>"/);
    assert.doesNotMatch(text, /"(offhook\.|\$JS\.API\.[A-Z.]+OFFHOOK_)/);
  });

  it('matches the shipped users.example.conf (regenerate it after changing permissions.ts)', function () {
    const shipped = readFileSync(join(NATS_DEPLOY_DIR, 'users.example.conf'), 'utf8');
    assert.equal(
      generateUsers({ hosts: ['web1', 'db1'], prefix: 'offhook', auth: 'nkey', example: true }).text,
      shipped,
      'run: deploy/nats/gen-users.mjs --hosts web1,db1 --example > deploy/nats/users.example.conf',
    );
  });

  it('in password mode writes a config nats-server accepts; the agent logs in with its password', async function () {
    const out = join(dir, 'users.conf');
    // Through the installed entry point, from a directory without node_modules, as an operator runs it.
    const { stdout } = await run(
      join(NATS_DEPLOY_DIR, 'gen-users.mjs'),
      ['--hosts', 'web1', '--auth', 'password', '--secrets-dir', join(dir, 'secrets'), '--out', out],
      { cwd: dir },
    );
    assert.match(stdout, /web1: agent\.yaml nats: \{ inbox_prefix: _INBOX_web1, user: agent-web1/);
    const certs = makeTestCertificates(join(dir, 'tls'));
    const configFile = adaptConfig(dir, 'nats-server.conf', { certs, storeDir: join(dir, 'jetstream') });
    const server = await startNatsServer({ configFile, jetstream: false });
    try {
      const password = readFileSync(join(dir, 'secrets', 'agent-web1.password'), 'utf8').trim();
      const nc = await connect({
        servers: server.url,
        user: 'agent-web1',
        pass: password,
        inboxPrefix: '_INBOX_web1',
        tls: { caFile: certs.ca },
        maxReconnectAttempts: 0,
      });
      nc.publish(subjects.heartbeat('web1'), encodeMessage(wire.heartbeat('web1', 1)));
      await nc.flush();
      await nc.close();
      await assert.rejects(
        connect({
          servers: server.url,
          user: 'agent-web1',
          pass: 'wrong',
          tls: { caFile: certs.ca },
          maxReconnectAttempts: 0,
        }),
        /authorization/i,
      );
    } finally {
      await server.dispose();
    }
  });

  it('fails with a clear message on a broken seed file', function () {
    const secretsDir = join(dir, 'secrets');
    generateUsers({ hosts: [], prefix: 'offhook', auth: 'nkey', secretsDir });
    writeFileSync(join(secretsDir, 'collector.nk'), 'not a seed\n');
    assert.throws(
      () => generateUsers({ hosts: [], prefix: 'offhook', auth: 'nkey', secretsDir }),
      /collector\.nk: not a valid nkey user seed .*delete it/,
    );
  });
});
