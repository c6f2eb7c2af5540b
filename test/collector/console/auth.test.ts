import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CollectorConfig } from '../../../collector/config.ts';
import { hashPassword, PASSWORD_HASH_RE, verifyPassword } from '../../../collector/console/password.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import { RecordingSink } from '../nats-harness.ts';
import { ConsoleClient } from './client.ts';

const run = promisify(execFile);

describe('web console login: passwords, proxy header, Secure cookie, throttle', () => {
  const bed = useCollectorBed({ connect: false });
  const start = async (console: Record<string, unknown>): Promise<string> => {
    const config = CollectorConfig.parse({
      nats: { servers: [bed.server.url] },
      listen: '127.0.0.1:0',
      rules: [{ name: 'host_down', kind: 'host_down' }],
      console,
    });
    return (await bed.start(config, { sink: new RecordingSink() })).url;
  };

  it('scrypt hashes verify the right password only; a malformed hash verifies nothing', async () => {
    const hash = await hashPassword('correct horse');
    assert.match(hash, PASSWORD_HASH_RE);
    assert.equal(await verifyPassword('correct horse', hash), true);
    assert.equal(await verifyPassword('correct horsE', hash), false);
    assert.equal(await verifyPassword('correct horse', hash.replace('scrypt$15', 'scrypt$16')), false);
    assert.equal(await verifyPassword('correct horse', 'plain'), false);
    assert.throws(
      () => CollectorConfig.parse({ nats: {}, console: { users: [{ name: 'a', password_hash: 'secret' }] } }),
      /hash-password/,
    );
  });

  it('`offhook console hash-password` prints a hash of the password on stdin', async () => {
    const child = run('node', ['offhook.mjs', 'console', 'hash-password']);
    child.child.stdin!.end('a long passphrase\n');
    const { stdout } = await child;
    assert.equal(await verifyPassword('a long passphrase', stdout.trim()), true);
  });

  it("a trusted proxy's user header makes a session (Secure behind TLS); the cookie alone is not a login", async () => {
    const url = await start({ proxy_user_header: 'X-Remote-User' });
    const headers = { 'X-Remote-User': 'bob', 'X-Forwarded-Proto': 'https' };
    const res = await fetch(`${url}/console/api/session`, { headers });
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /^offhook_console=[\w-]+; Path=\/console; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/);
    const session = (await res.json()) as { user: string; csrf: string };
    assert.equal(session.user, 'bob');
    const bob = new ConsoleClient(url);
    bob.cookie = cookie.split(';')[0]!;
    bob.csrf = session.csrf;
    const body = { matchers: 'host=web9', duration: '1h', comment: 'proxy user' };
    const done = await bob.post('/console/api/silences', body, { 'X-Remote-User': 'bob' });
    assert.equal(done.status, 200, await done.clone().text());
    assert.equal(((await done.json()) as { value: { createdBy: string } }).value.createdBy, 'bob');
    assert.equal((await bob.post('/console/api/silences', body)).status, 401, 'the cookie alone is not a login');
    const other = await bob.post('/console/api/silences', body, { 'X-Remote-User': 'mallory' });
    assert.equal(other.status, 403, "another user's name gets a new session, whose token this is not");
  });

  it('password login: no Secure on plain HTTP, five wrong passwords lock the name for a minute', async () => {
    const url = await start({ users: [{ name: 'alice', password_hash: await hashPassword('alice-secret') }] });
    const alice = new ConsoleClient(url);
    const ok = await alice.login('alice', 'alice-secret');
    assert.doesNotMatch(ok.headers.get('set-cookie')!, /Secure/);
    const header = { 'X-Remote-User': 'bob' };
    assert.equal((await fetch(`${url}/console/api/session`, { headers: header }).then((r) => r.json())).user, null);
    for (let i = 0; i < 5; i++) assert.equal((await alice.login('alice', `wrong-${i}`)).status, 401);
    assert.equal((await alice.login('alice', 'alice-secret')).status, 429);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /offhook_console_refused_total\{reason="throttled"[^}]*\} 1/);
    assert.match(metrics, /offhook_console_logins_total\{outcome="failed"[^}]*\} 6/);
  });
});
