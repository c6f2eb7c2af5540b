import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeCliNats, resolveCliNats, UsageError } from '../../shared/index.ts';

describe('operator commands: which NATS they ask', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-nats-cli-'));
    file = join(dir, 'collector.yaml');
    const nats = 'nats:\n  servers: ["nats://from-file:4222"]\n  prefix: prod\n  user: filer\n  password: secret\n';
    writeFileSync(file, `${nats}rules: []\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('flag over NATS_URL over the config file over the default, and says which', () => {
    const env = { NATS_URL: 'nats://from-env:4222, nats://other:4222' };
    assert.equal(
      describeCliNats(resolveCliNats({ nats: 'nats://flag:4222', config: file }, env)),
      'nats://flag:4222 (from --nats), prefix prod',
    );
    assert.equal(
      describeCliNats(resolveCliNats({ server: 'nats://flag:4222' }, env)),
      'nats://flag:4222 (from --nats), prefix offhook',
    );
    assert.deepEqual(resolveCliNats({ config: file }, env).nats.servers, ['nats://from-env:4222', 'nats://other:4222']);
    assert.equal(resolveCliNats({ config: file }, env).source, 'NATS_URL');
    assert.equal(
      describeCliNats(resolveCliNats({ config: file }, {})),
      'nats://from-file:4222 (from collector.yaml), prefix prod',
    );
    assert.equal(describeCliNats(resolveCliNats({}, {})), 'nats://127.0.0.1:4222 (from default), prefix offhook');
    assert.equal(resolveCliNats({ prefix: 'staging', config: file }, {}).nats.prefix, 'staging');
  });

  it('a file without nats.servers does not hide NATS_URL or the default behind a built-in value', () => {
    const bare = join(dir, 'bare.yaml');
    writeFileSync(bare, 'nats: { prefix: lab }\n');
    assert.equal(
      describeCliNats(resolveCliNats({ config: bare }, {})),
      'nats://127.0.0.1:4222 (from default), prefix lab',
    );
  });

  it('credentials go as one set: flag, then NATS_CREDS / NATS_NKEY / NATS_USER / NATS_PASSWORD, then the file', () => {
    const fromFile = resolveCliNats({ config: file }, {}).nats;
    assert.deepEqual([fromFile.user, fromFile.password], ['filer', 'secret']);
    const fromEnv = resolveCliNats({ config: file }, { NATS_CREDS: '/etc/offhook/ops.creds' }).nats;
    assert.deepEqual(
      [fromEnv.credentials_file, fromEnv.user, fromEnv.password],
      ['/etc/offhook/ops.creds', undefined, undefined],
    );
    const envUser = resolveCliNats({}, { NATS_USER: 'ops', NATS_PASSWORD: 'pw', NATS_NKEY: '/k.nk' }).nats;
    assert.deepEqual([envUser.user, envUser.password, envUser.nkey_seed_file], ['ops', 'pw', '/k.nk']);
    const fromFlag = resolveCliNats({ config: file, user: 'alice', password: 'x' }, { NATS_CREDS: '/c.creds' }).nats;
    assert.deepEqual([fromFlag.user, fromFlag.password, fromFlag.credentials_file], ['alice', 'x', undefined]);
  });

  it('a broken config file or flag is a usage/config error (exit 2), not a connection to somewhere else', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'nats: { servers: nope }\n');
    assert.throws(
      () => resolveCliNats({ config: join(dir, 'broken.yaml') }, {}),
      (err: unknown) => err instanceof ConfigError && /^broken\.yaml: nats\.servers: expected array/.test(err.message),
    );
    assert.throws(() => resolveCliNats({ nats: ' , ' }, {}), UsageError);
    assert.throws(() => resolveCliNats({ prefix: 'a.b' }, {}), /--prefix: expected one NATS token/);
  });
});
