import assert from 'node:assert/strict';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { assertOneCallAtATime, startTestGateway, type TestGateway } from '../harness.ts';
import { acknowledged, dialled, localState, nextChecks, playedFiles, spokenFile, watchdogInput } from './helpers.ts';

describe('gateway watchdog: NATS unreachable (sim line, real nats-server stopped)', function () {
  this.timeout(60_000);
  const server = useNatsServer({ perTest: true });
  let gw: TestGateway | null = null;

  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    await server.start();
    await gw?.stop();
    gw = null;
  });

  it('phones alice with NATS down, says why, 1 acknowledges, and no more calls come for that incident', async () => {
    const prefix = 'wdnats1';
    gw = await startTestGateway(server, { watchdog: watchdogInput({ nats: '1s' }) }, prefix);
    const watchdog = gw.gateway.watchdog;
    const fp = watchdog.incidentFingerprint;
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const budgetBefore = await gw.metric('offhook_gateway_budget_remaining_calls', { limit: 'calls_per_hour' });
    // Seen healthy first: the call below is caused by the outage, not by a start-up condition.
    assert.deepEqual((await nextChecks(watchdog, 3)).at(-1), []);

    await server.stop();
    await gw.waitFor('the acknowledged watchdog call', acknowledged(gw, fp), 30_000);
    assert.equal(watchdog.incidentState(), 'acknowledged');
    assert.deepEqual(dialled(gw.transcript()), ['100']);
    const summary =
      'offhook is blind: the telephony gateway has not reached NATS for less than a minute, ' +
      'so no alert can reach the phone';
    assert.equal(playedFiles(gw.transcript())[0], await spokenFile(summary), 'the reason is what is spoken');
    assert.ok(playedFiles(gw.transcript()).some((f) => f.startsWith('acked-')));

    // Still blind for the next checks (NATS is still down), yet nobody is called again: the ack covers the incident.
    const later = await nextChecks(watchdog, 15);
    assert.ok(
      later.every((reasons) => reasons?.length === 1 && reasons[0]!.kind === 'nats'),
      JSON.stringify(later),
    );
    assert.equal(gw.offHooks.filter((fps) => fps.includes(fp)).length, 1);
    assert.equal(gw.gateway.queue.has(fp), false);
    assert.equal(await gw.metric('offhook_gateway_watchdog_blind', { reason: 'nats' }), 1);
    assert.equal(await gw.metric('offhook_gateway_watchdog_incidents_total'), 1);
    // Counted in the same budget, and kept locally where a restart finds it even if KV never got it.
    assert.equal(
      await gw.metric('offhook_gateway_budget_remaining_calls', { limit: 'calls_per_hour' }),
      budgetBefore - 1,
    );
    assert.equal(await gw.metric('offhook_gateway_calls_total', { outcome: 'acknowledged' }), 1);
    assert.equal(localState(prefix).budget.calls.length, 1);

    // NATS back: the incident clears, and the DTMF ack and call record published in the background arrive.
    const cleared = new Promise((resolve) => watchdog.events.once('cleared', resolve));
    await server.start();
    await cleared;
    assert.equal(watchdog.incidentState(), null);
    const stored = (): boolean =>
      gw!.acks.some((a) => a.fingerprint === fp && a.method === 'dtmf') &&
      gw!.calls.some((c) => c.fingerprints.includes(fp));
    await gw.waitFor('the ack and call record stored after NATS came back', stored, 30_000);
  });

  it('escalates to bob when alice does not answer, through the same escalation', async () => {
    const input = { watchdog: watchdogInput({ nats: '1s' }), escalation: { retry_delay: '100ms' } };
    gw = await startTestGateway(server, input, 'wdnats2');
    const fp = gw.gateway.watchdog.incidentFingerprint;
    gw.line.script({ number: '100', noAnswer: true });
    gw.line.script({ number: '200', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    assert.deepEqual((await nextChecks(gw.gateway.watchdog, 3)).at(-1), []);
    await server.stop();
    await gw.waitFor('bob acknowledging', acknowledged(gw, fp), 40_000);
    assert.deepEqual(dialled(gw.transcript()), ['100', '200']);
  });
});
