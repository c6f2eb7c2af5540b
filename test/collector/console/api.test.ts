import assert from 'node:assert/strict';
import { DeliverPolicy } from '@nats-io/jetstream';
import { CollectorConfig } from '../../../collector/config.ts';
import { hashPassword } from '../../../collector/console/password.ts';
import {
  Ack,
  encodeMessage,
  jetstreamClient,
  ManualClock,
  publishDurable,
  streamNames,
  Subjects,
} from '../../../shared/index.ts';
import { useCollectorBed } from '../../helpers/collector-bed.ts';
import type { EmbeddedNatsServer } from '../../helpers/nats-server.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { RecordingSink } from '../nats-harness.ts';
import { ConsoleClient, SseFollower } from './client.ts';

const subjects = new Subjects();
const HOSTILE = '<img src=x onerror=alert(1)>';

async function config(server: EmbeddedNatsServer) {
  return CollectorConfig.parse({
    nats: { servers: [server.url] },
    listen: '127.0.0.1:0',
    rules: [
      { name: 'services', kind: 'check', max_attempts: 1, summary: '{host}: {labels.check} says {message}' },
      { name: 'host_down', kind: 'host_down' },
    ],
    console: { users: [{ name: 'alice', password_hash: await hashPassword('alice-secret') }] },
  });
}

describe('web console API and live feed on a real nats-server', () => {
  let follower: SseFollower | undefined;
  // Registered first, so it runs before the bed stops the collector: the live feed is left, not cut.
  afterEach(() => follower?.stop());
  const bed = useCollectorBed();
  const { server } = bed;

  it('shows an alert live (check name, state); ack, silence, expire as a user, recorded as them', async () => {
    const sink = new RecordingSink();
    const collector = await bed.start(await config(server), { sink });
    const url = collector.url;
    follower = new SseFollower(url);
    await follower.start();
    await follower.waitFor((s) => s.alerts.length === 0, 'the first state');

    const script = new EventScript(new ManualClock(Date.now()));
    const js = jetstreamClient(bed.nc);
    bed.nc.publish(subjects.heartbeat('web1'), encodeMessage(script.heartbeat('web1')));
    const check = { ...script.check('web1', 'nginx', 'critical', HOSTILE) };
    const sent = Date.now();
    await publishDurable(js, subjects.event('web1', 'check'), check);
    const firing = await follower.waitFor((s) => s.alerts.length === 1, 'the alert on the live feed');
    const shownAfterMs = Date.now() - sent;
    const alert = firing.alerts[0]!;
    assert.equal(alert.state, 'firing');
    assert.equal(alert.rule, 'services');
    assert.equal(alert.check, 'nginx');
    assert.equal(alert.generation, 1);
    assert.match(alert.summary, /onerror=alert/, 'text goes out as JSON text, escaped by the page when shown');
    const withHost = await follower.waitFor((s) => s.hosts.some((h) => h.host === 'web1'), 'the host');
    assert.equal(withHost.hosts[0]!.agentVersion, '0.1.0');
    assert.equal(withHost.hosts[0]!.down, false);

    const anonymous = new ConsoleClient(url);
    const noLogin = await anonymous.post('/console/api/ack', { fingerprint: alert.fingerprint });
    assert.equal(noLogin.status, 401, 'an action without login is refused');
    assert.equal((await anonymous.login('alice', 'wrong')).status, 401);
    assert.equal((await anonymous.login('mallory', 'alice-secret')).status, 401);

    const alice = new ConsoleClient(url);
    assert.equal((await alice.login('alice', 'alice-secret')).status, 200);
    assert.match(
      (await new ConsoleClient(url).login('alice', 'alice-secret')).headers.get('set-cookie')!,
      /HttpOnly; SameSite=Strict/,
    );
    const badCsrf = await alice.post('/console/api/ack', { fingerprint: alert.fingerprint }, { 'X-CSRF-Token': 'x' });
    assert.equal(badCsrf.status, 403, 'a bad CSRF token is refused');
    const crossOrigin = await alice.post(
      '/console/api/ack',
      { fingerprint: alert.fingerprint },
      { Origin: 'http://evil' },
    );
    assert.equal(crossOrigin.status, 403, 'another origin is refused');
    const badBody = await alice.post('/console/api/ack', { fingerprint: 'nope' });
    assert.equal(badBody.status, 400);
    assert.match(((await badBody.json()) as { error: string }).error, /^fingerprint: /);

    const acked = await alice.post('/console/api/ack', { fingerprint: alert.fingerprint, comment: 'on it' });
    assert.equal(acked.status, 200, await acked.clone().text());
    const ackState = await follower.waitFor((s) => s.alerts[0]?.state === 'acknowledged', 'the ack on the live feed');
    assert.deepEqual(
      { by: ackState.alerts[0]!.ack?.by, comment: ackState.alerts[0]!.ack?.comment },
      { by: 'alice', comment: 'on it' },
    );
    const consumer = await js.consumers.get(streamNames(subjects).acks, { deliver_policy: DeliverPolicy.All });
    const stored = Ack.parse((await consumer.next({ expires: 5000 }))!.json());
    assert.deepEqual(
      { by: stored.by, method: stored.method, generation: stored.generation, comment: stored.comment },
      { by: 'alice', method: 'http', generation: 1, comment: 'on it' },
      'the same Ack on ACKS as `offhook ack` publishes, with who did it',
    );

    const badMatcher = await alice.post('/console/api/silences', {
      matchers: 'host=~(a)\\1',
      duration: '1h',
      comment: 'x',
    });
    assert.equal(badMatcher.status, 400);
    assert.match(
      ((await badMatcher.json()) as { error: string }).error,
      /^matchers: .*backreferences are not supported/,
    );
    const badDuration = await alice.post('/console/api/silences', {
      matchers: 'host=web1',
      duration: '1.5h',
      comment: 'x',
    });
    assert.match(((await badDuration.json()) as { error: string }).error, /^duration: .*fractions/);
    const created = await alice.post('/console/api/silences', {
      matchers: 'host=web1 rule=~"serv.*"',
      duration: '2h',
      comment: 'deploy',
    });
    assert.equal(created.status, 200, await created.clone().text());
    const id = ((await created.json()) as { value: { id: string } }).value.id;
    const silenced = await follower.waitFor((s) => s.alerts[0]?.state === 'silenced', 'the silence on the live feed');
    assert.equal(silenced.silences[0]!.createdBy, 'alice');
    assert.equal(silenced.silences[0]!.state, 'active');
    assert.equal((await alice.post(`/console/api/silences/${id}/expire`, {}, { 'X-CSRF-Token': 'bad' })).status, 403);
    assert.equal((await alice.post(`/console/api/silences/${id}/expire`, {})).status, 200);
    await follower.waitFor((s) => s.silences[0]?.state === 'expired', 'the expired silence');
    assert.equal((await alice.post('/console/api/silences/nope/expire', {})).status, 404);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /offhook_console_refused_total\{reason="bad_csrf"[^}]*\} 2/);
    assert.match(metrics, /offhook_console_actions_total\{action="ack",outcome="done"[^}]*\} 1/);
    const page = await fetch(`${url}/console/`);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'/);
    assert.ok(!page.headers.get('content-security-policy')!.includes('unsafe'));
    process.stdout.write(`      (alert on the live feed ${shownAfterMs} ms after the event was published)\n`);
  });
});
