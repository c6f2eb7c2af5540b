import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { streamNames } from '../../../shared/index.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { callMessage } from '../../../telephony-gateway/calls/wording.ts';
import { assertOneCallAtATime, speechFileOf, startTestGateway, type TestGateway } from '../harness.ts';
import { makeAlert, resolvedOf } from '../helpers.ts';

describe('gateway calls (sim line, real nats-server)', function () {
  const server = useNatsServer();
  let gw: TestGateway | null = null;
  let suite = 0;
  const prefix = (): string => `gwcalls${++suite}`;

  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    await gw?.stop();
    gw = null;
  });

  async function unackedAlertMessages(g: TestGateway): Promise<number> {
    const jsm = await jetstreamManager(g.nc);
    const info = await jsm.consumers.info(streamNames(g.subjects).alerts, `gateway-${g.gateway.gatewayHost}`);
    return info.num_ack_pending + info.num_pending;
  }

  it('happy path: calls the first person, reads the alert, and a 1 acknowledges it', async () => {
    gw = await startTestGateway(server, {}, prefix());
    gw.line.script({
      number: '100',
      answerAfterRings: 1,
      then: [{ waitForPrompt: 'menu', after: 500 }, { press: '1' }],
    });
    const alert = makeAlert({ summary: 'HTTP down' });
    await gw.publish(alert);
    await gw.waitFor(
      'the acknowledged call',
      () => gw!.finished.some((f) => f.reason === 'acknowledged') && gw!.acks.length === 1 && gw!.calls.length === 1,
    );

    const [call] = gw.calls;
    assert.deepEqual(
      [call!.direction, call!.person, call!.number, call!.outcome, call!.digits, call!.fingerprints],
      ['outbound', 'alice', '100', 'acknowledged', '1', [alert.fingerprint]],
    );
    assert.deepEqual(
      [gw.acks[0]!.fingerprint, gw.acks[0]!.method, gw.acks[0]!.by, gw.acks[0]!.generation],
      [alert.fingerprint, 'dtmf', 'alice', 1],
    );
    const events = gw
      .transcript()
      .map((e) =>
        e.event === 'play'
          ? `play:${e.file.replace(/-[0-9a-f]+\.wav$/, '')}`
          : e.event === 'dial'
            ? `dial:${e.number}`
            : e.event,
      );
    assert.deepEqual(events.slice(0, 5), ['off_hook', 'dial_tone', 'dial:100', 'answered', 'play:alert']);
    assert.ok(events.includes('play:menu') && events.includes('play:acked'), events.join(' '));
    assert.equal(events.at(-1), 'on_hook');
    assert.equal(await gw.metric('offhook_gateway_calls_total', { outcome: 'acknowledged' }), 1);
    assert.equal(await gw.metric('offhook_gateway_alert_to_offhook_seconds_count'), 1);
    assert.equal(await unackedAlertMessages(gw), 0, 'the JetStream message is acked once the escalation is over');
  });

  it('menu: a wrong key is refused, 0 gives help, 3 repeats the message, then 1 acknowledges', async () => {
    gw = await startTestGateway(server, {}, prefix());
    const keys = ['7', '0', '3', '1'].flatMap((digit) => [{ waitForPrompt: 'menu' }, { press: digit }]);
    gw.line.script({ number: '100', then: keys });
    await gw.publish(makeAlert());
    await gw.waitFor('the acknowledged call', () => gw!.calls.length === 1 && gw!.finished.length === 1);
    assert.deepEqual([gw.calls[0]!.outcome, gw.calls[0]!.digits], ['acknowledged', '7031']);
    const prompts = gw
      .transcript()
      .flatMap((e) => (e.event === 'play' ? [e.file.replace(/-[0-9a-f]+\.wav$/, '')] : []));
    assert.deepEqual(prompts, ['alert', 'menu', 'wrong-key', 'menu', 'help', 'menu', 'alert', 'menu', 'acked']);
  });

  it('an answering machine (answered, no key) is no acknowledgement: read out, repeated, next person', async () => {
    gw = await startTestGateway(
      server,
      { line: { backend: 'sim', max_repeats: 1 }, escalation: { max_rounds: 1 } },
      prefix(),
    );
    gw.line.script({ number: '100', then: [{ wait: 3_600_000 }] });
    gw.line.script({ number: '200', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.publish(makeAlert());
    await gw.waitFor('bob acknowledging', () => gw!.calls.length === 2 && gw!.finished.length === 1);
    assert.deepEqual(
      gw.calls.map((c) => `${c.person}:${c.outcome}`),
      ['alice:answered', 'bob:acknowledged'],
    );
    const firstCall = gw.transcript().slice(
      0,
      gw.transcript().findIndex((e) => e.event === 'on_hook'),
    );
    const prompts = firstCall.flatMap((e) => (e.event === 'play' ? [e.file.replace(/-[0-9a-f]+\.wav$/, '')] : []));
    assert.deepEqual(prompts, ['alert', 'menu', 'alert', 'menu', 'goodbye']);
  });

  it('quiet hours: a warning skips the person in quiet hours, a critical still rings them', async () => {
    gw = await startTestGateway(
      server,
      {
        people: [
          // from = to: quiet all day, every day.
          { name: 'alice', number: '100', quiet_hours: { from: '00:00', to: '00:00', allow: 'critical' } },
          { name: 'bob', number: '200' },
        ],
      },
      prefix(),
    );
    gw.line.script({ number: '200', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.publish(makeAlert({ rule: 'disk', severity: 'warning', summary: 'disk 95 %' }));
    await gw.waitFor('the warning call', () => gw!.calls.length === 1 && gw!.finished.length === 1);
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.publish(makeAlert({ rule: 'http', severity: 'critical' }));
    await gw.waitFor('the critical call', () => gw!.calls.length === 2 && gw!.finished.length === 2);
    assert.deepEqual(
      gw.calls.map((c) => `${c.person}:${c.outcome}`),
      ['bob:acknowledged', 'alice:acknowledged'],
    );
  });

  it('busy, then no answer, escalates to the second person, who acks; the first is not called again', async () => {
    gw = await startTestGateway(server, { escalation: { attempts_per_person: 2, retry_delay: '200ms' } }, prefix());
    gw.line.script({ number: '100', busy: true });
    gw.line.script({ number: '100', noAnswer: true });
    gw.line.script({ number: '200', answerAfterRings: 2, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor(
      'bob acknowledging',
      () => gw!.calls.some((c) => c.outcome === 'acknowledged') && gw!.finished.length === 1 && gw!.acks.length === 1,
    );
    assert.deepEqual(
      gw.calls.map((c) => `${c.person}:${c.outcome}:${c.attempt}`),
      ['alice:busy:1', 'alice:no_answer:2', 'bob:acknowledged:3'],
    );
    assert.equal(gw.acks[0]?.by, 'bob');
    assert.equal(gw.gateway.queue.size, 0);
    assert.equal(assertOneCallAtATime(gw.transcript()), 3);
  });

  it('2 passes to the next person; nobody acknowledging ends in the fallback after max rounds', async () => {
    gw = await startTestGateway(server, { escalation: { max_rounds: 1 } }, prefix());
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '2' }] });
    gw.line.script({ number: '200', then: [{ hangUp: true }] });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the fallback', () => gw!.fallbacks.length === 1);
    assert.deepEqual(
      gw.calls.map((c) => `${c.person}:${c.outcome}`),
      ['alice:passed', 'bob:hung_up'],
    );
    assert.deepEqual(
      [gw.fallbacks[0]!.reason, gw.fallbacks[0]!.alerts.map((a) => a.fingerprint)],
      ['nobody_answered', [alert.fingerprint]],
    );
    assert.equal(gw.acks.length, 0);
  });

  it('an ack from the CLI between attempts stops the escalation before the next call', async () => {
    gw = await startTestGateway(server, { escalation: { attempts_per_person: 3, retry_delay: '3s' } }, prefix());
    gw.line.script({ number: '100', noAnswer: true });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the unanswered first call', () => gw!.calls.length === 1);
    await gw.publishAck(alert, 'cli');
    await gw.waitFor('the escalation to end', () => gw!.finished.some((f) => f.fingerprint === alert.fingerprint));
    assert.deepEqual(gw.finished, [{ fingerprint: alert.fingerprint, reason: 'acknowledged' }]);
    assert.equal(gw.calls.length, 1, 'no retry call was placed');
    assert.equal(gw.gateway.queue.size, 0);
    assert.equal(await gw.metric('offhook_gateway_acks_total', { method: 'cli' }), 1);
    assert.equal(await unackedAlertMessages(gw), 0);
  });

  it('an ack from the CLI during the call hangs up at once instead of reading out a handled alert', async () => {
    gw = await startTestGateway(server, {}, prefix());
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ wait: 3_600_000 }] });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the line to be seized', () => gw!.offHooks.length === 1);
    await gw.publishAck(alert, 'cli');
    await gw.waitFor('the cancelled call record', () => gw!.calls.length === 1 && gw!.finished.length === 1);
    assert.deepEqual(
      [gw.calls[0]!.outcome, gw.calls[0]!.error],
      ['cancelled', 'every alert in the call was acknowledged or resolved elsewhere'],
    );
    assert.deepEqual(gw.finished, [{ fingerprint: alert.fingerprint, reason: 'acknowledged' }]);
    assert.equal(gw.acks.length, 1, 'only the CLI ack; the phone did not acknowledge');
  });

  it('keeps a held alert alive with working() while it waits longer than ack_wait between attempts', async () => {
    gw = await startTestGateway(
      server,
      { ack_wait: '1s', escalation: { attempts_per_person: 2, retry_delay: '2500ms' } },
      prefix(),
    );
    gw.line.script({ number: '100', noAnswer: true });
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the retry to be acknowledged', () => gw!.finished.length === 1 && gw!.calls.length === 2);
    assert.deepEqual(
      gw.calls.map((c) => c.outcome),
      ['no_answer', 'acknowledged'],
    );
    const jsm = await jetstreamManager(gw.nc);
    const info = await jsm.consumers.info(streamNames(gw.subjects).alerts, `gateway-${gw.gateway.gatewayHost}`);
    assert.equal(info.num_redelivered, 0, 'never redelivered while this gateway held it');
    assert.deepEqual(gw.handled, [alert.fingerprint]);
  });

  it('no dial tone: retries the same person, reports the line down, hands the alert to the fallback', async () => {
    gw = await startTestGateway(
      server,
      { line: { backend: 'sim', dial_tone_timeout: '2s' }, escalation: { retry_delay: '50ms' } },
      prefix(),
      { noDialTone: true },
    );
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the line-down fallback', () => gw!.fallbacks.length === 1 && gw!.gatewayEvents.length === 1);
    assert.deepEqual(
      gw.calls.slice(0, 3).map((c) => [c.person, c.outcome]),
      [
        ['alice', 'no_dial_tone'],
        ['alice', 'no_dial_tone'],
        ['alice', 'no_dial_tone'],
      ],
    );
    assert.deepEqual([gw.fallbacks[0]!.reason, gw.gatewayEvents[0]!.kind], ['line_down', 'line_down']);
    assert.equal(await gw.metric('offhook_gateway_line_up'), 0);
    assert.equal(gw.gateway.queue.size, 1, 'the escalation keeps trying the line');
  });

  it('SIGTERM-style stop mid-call hangs up at once; the next gateway calls about the alert again', async () => {
    const shared = prefix();
    gw = await startTestGateway(server, {}, shared);
    gw.line.script({ number: '100', then: [{ wait: 3_600_000 }] });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the line to be seized', () => gw!.offHooks.length === 1);
    const first = gw;
    await first.stop();
    const hook = first.transcript().filter((e) => e.event === 'off_hook' || e.event === 'on_hook');
    assert.deepEqual(
      hook.map((e) => e.event),
      ['off_hook', 'on_hook'],
      'hung up, not left off hook',
    );
    assert.equal(first.calls.length, 0, 'a call cut short leaves no record');
    gw = await startTestGateway(server, {}, shared);
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.waitFor('the repeat call to be acknowledged', () => gw!.finished.length === 1 && gw!.calls.length === 1);
    assert.deepEqual([gw.calls[0]!.outcome, gw.calls[0]!.fingerprints], ['acknowledged', [alert.fingerprint]]);
  });

  it('a restarted gateway resumes the escalation from KV instead of starting over', async () => {
    const shared = prefix();
    const input = { escalation: { attempts_per_person: 2, retry_delay: '1500ms' } };
    gw = await startTestGateway(server, input, shared);
    gw.line.script({ number: '100', noAnswer: true });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the first unanswered call', () => gw!.calls.length === 1);
    await gw.stop();
    gw = await startTestGateway(server, input, shared);
    gw.line.script({ number: '100', noAnswer: true });
    gw.line.script({ number: '200', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    await gw.waitFor('bob acknowledging', () => gw!.finished.length === 1 && gw!.calls.length === 2);
    assert.deepEqual(
      gw.calls.map((c) => `${c.person}:${c.outcome}:${c.attempt}`),
      ['alice:no_answer:2', 'bob:acknowledged:3'],
      'alice gets her second attempt, not a third',
    );
  });

  it('an alert re-published as acknowledged by the collector leaves the queue', async () => {
    gw = await startTestGateway(server, { escalation: { group_wait: '5s' } }, prefix());
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the alert to be queued', () => gw!.gateway.queue.size === 1);
    await gw.publish({ ...alert, id: `${alert.id}-acked`, acknowledged: true });
    await gw.waitFor('the escalation to end', () => gw!.finished.length === 1);
    assert.deepEqual(gw.finished, [{ fingerprint: alert.fingerprint, reason: 'acknowledged' }]);
    assert.equal(gw.calls.length, 0);
  });

  it('an alert that resolves while queued is never called about', async () => {
    gw = await startTestGateway(server, { escalation: { group_wait: '5s' } }, prefix());
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the alert to be queued', () => gw!.gateway.queue.size === 1);
    await gw.publish(resolvedOf(alert));
    await gw.waitFor('the escalation to end', () => gw!.finished.length === 1);
    assert.deepEqual(gw.finished, [{ fingerprint: alert.fingerprint, reason: 'resolved' }]);
    assert.equal(gw.gateway.queue.size, 0);
    assert.equal(gw.calls.length, 0);
    assert.equal(gw.transcript().filter((e) => e.event === 'off_hook').length, 0);
  });

  it('storm: 100 alerts become exactly one call naming the count and the worst ones', async () => {
    // 60 s of storm at line speed is 0.6 s real; group_wait covers it and the call gathers the rest when answered.
    gw = await startTestGateway(server, { escalation: { group_wait: '3s' } }, prefix());
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const critical = ['db1', 'db2', 'web9'].map((host) => makeAlert({ host, rule: 'down', summary: 'not answering' }));
    const warnings = Array.from({ length: 97 }, (_, i) =>
      makeAlert({ host: `web${i}`, rule: 'disk', severity: 'warning', summary: 'disk 95 %' }),
    );
    await Promise.all([...warnings, ...critical].map((a) => gw!.publish(a)));
    await gw.waitFor('the storm call', () => gw!.finished.length === 100 && gw!.acks.length === 100);
    assert.equal(gw.calls.length, 1);
    assert.equal(gw.calls[0]!.fingerprints.length, 100);
    assert.deepEqual(
      new Set(gw.calls[0]!.fingerprints.slice(0, 3)),
      new Set(critical.map((a) => a.fingerprint)),
      'the worst come first',
    );
    assert.equal(gw.acks.length, 100);
    assert.equal(assertOneCallAtATime(gw.transcript()), 1);
    // What was read out: the count, then the three critical ones by name, then "and 97 more".
    const byFingerprint = new Map([...warnings, ...critical].map((a) => [a.fingerprint, a]));
    const announced = gw.calls[0]!.fingerprints.map((fp) => byFingerprint.get(fp)!);
    const text = callMessage(announced, { maxAlertsSpoken: 3, maxChars: 600 });
    const one = 'critical, (db1|db2|web9), not answering\\.';
    assert.match(text, new RegExp(`^This is offhook with 100 alerts\\. ${one} ${one} ${one} And 97 more\\.$`));
    const played = gw.transcript().find((e) => e.event === 'play');
    assert.equal(played?.event === 'play' ? played.file : null, await speechFileOf(text));
  });

  it('budget: with max_calls_per_hour 3 the fourth call is not placed, goes to the fallback, is counted', async () => {
    gw = await startTestGateway(server, { budget: { max_calls_per_hour: 3 } }, prefix());
    const alerts = Array.from({ length: 4 }, (_, i) => makeAlert({ host: `web${i}` }));
    for (const [index, alert] of alerts.entries()) {
      if (index < 3) gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
      await gw.publish(alert);
      await gw.waitFor(
        `escalation ${index + 1} to end`,
        () => gw!.finished.length === index + 1 && gw!.calls.length === index + 1,
      );
    }
    await gw.waitFor('the fallback request', () => gw!.fallbacks.length === 1);
    assert.deepEqual(
      gw.calls.map((c) => c.outcome),
      ['acknowledged', 'acknowledged', 'acknowledged', 'rejected_budget'],
    );
    assert.equal(
      gw.transcript().filter((e) => e.event === 'off_hook').length,
      3,
      'the fourth call never took the line',
    );
    assert.deepEqual(
      [gw.fallbacks.length, gw.fallbacks[0]?.reason, gw.fallbacks[0]?.alerts[0]?.fingerprint],
      [1, 'budget_exhausted', alerts[3]!.fingerprint],
    );
    await gw.waitFor('the budget event', () => gw!.gatewayEvents.length === 1);
    assert.deepEqual([gw.gatewayEvents[0]!.kind, gw.gatewayEvents[0]!.limit], ['budget_exhausted', 'calls_per_hour']);
    assert.equal(
      await gw.metric('offhook_gateway_budget_exhausted_total', { scope: 'total', limit: 'calls_per_hour' }),
      1,
    );
    assert.equal(await gw.metric('offhook_gateway_budget_remaining_calls', { limit: 'calls_per_hour' }), 0);
    assert.equal(await gw.metric('offhook_gateway_fallbacks_total', { reason: 'budget_exhausted' }), 1);
  });

  it('counts and terminates a malformed alert without disturbing the next one', async () => {
    gw = await startTestGateway(server, {}, prefix());
    gw.line.script({ number: '100', then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const js = (await import('../../../shared/index.ts')).jetstreamClient(gw.nc);
    await js.publish(gw.subjects.alert('critical', 'web1'), new TextEncoder().encode('{"v":1,"summary":"<speak>oops'));
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the good alert to be called', () => gw!.calls.length === 1 && gw!.finished.length === 1);
    assert.equal(await gw.metric('offhook_invalid_messages_total', { subject: 'alerts' }), 1);
    assert.equal(await unackedAlertMessages(gw), 0);
  });
});
