import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { assertOneCallAtATime, startTestGateway, type TestGateway } from '../harness.ts';
import { makeAlert, voiceNoteCall } from '../helpers.ts';

describe('gateway inbound calls (sim line, real nats-server)', function () {
  const server = useNatsServer();
  let gw: TestGateway | null = null;
  let suite = 0;

  beforeEach(async () => {
    // Only critical alerts ring out, so the warnings below are heard by calling in.
    gw = await startTestGateway(
      server,
      { escalation: { min_severity: 'critical' }, inbound: { lockout: '10m' } },
      `gwin${++suite}`,
    );
  });
  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    await gw?.stop();
    gw = null;
  });

  const inboundCalls = (): number => gw!.calls.filter((c) => c.direction === 'inbound').length;

  it('a known caller with the right PIN hears the firing alerts and acknowledges one with 1', async () => {
    const disk = makeAlert({ host: 'web1', rule: 'disk', severity: 'warning', summary: 'disk 95 %' });
    const load = makeAlert({
      host: 'web2',
      rule: 'load',
      severity: 'warning',
      summary: 'load high',
      startsAt: disk.startsAt + 1,
    });
    await gw!.publish(disk);
    await gw!.publish(load);
    await gw!.waitFor('both alerts to be taken in', () => gw!.handled.length === 2);
    gw!.line.ring({
      callerId: '100',
      then: [
        { waitForPrompt: 'enter-pin' },
        { press: '1234#' },
        { waitForPrompt: 'inbound-menu' },
        { press: '1' },
        { waitForPrompt: 'inbound-menu' },
        { press: '9' },
      ],
    });
    await gw!.waitFor('the inbound call record', () => inboundCalls() === 1);
    const record = gw!.calls.find((c) => c.direction === 'inbound')!;
    assert.deepEqual(
      [record.person, record.number, record.outcome, record.fingerprints, record.error],
      ['alice', '100', 'acknowledged', [disk.fingerprint], undefined],
    );
    await gw!.waitFor('the ack', () => gw!.acks.length === 1);
    assert.deepEqual(
      [gw!.acks[0]!.fingerprint, gw!.acks[0]!.method, gw!.acks[0]!.by],
      [disk.fingerprint, 'inbound_call', 'alice'],
    );
    assert.equal(gw!.transcript().filter((e) => e.event === 'off_hook').length, 1);
  });

  it('with voice notes on, the caller records a note that is attached to the ack', async () => {
    await gw!.stop();
    gw = await startTestGateway(
      server,
      { escalation: { min_severity: 'critical' }, inbound: { voice_notes: true } },
      `gwin${++suite}`,
    );
    const alert = makeAlert({ severity: 'warning' });
    await gw.publish(alert);
    await gw.waitFor('the alert to be taken in', () => gw!.handled.length === 1);
    gw.line.ring(voiceNoteCall());
    await gw.waitFor('the ack', () => gw!.acks.length === 1);
    const note = gw.acks[0]!.voiceNote;
    assert.ok(note && existsSync(note), `voice note ${note} exists`);
    assert.equal(gw.acks[0]!.by, 'bob');
    const recorded = gw.transcript().find((e) => e.event === 'record');
    assert.ok(recorded?.event === 'record' && recorded.reason === 'term_key' && recorded.durationMs > 0);
  });

  it('three wrong PINs lock the caller out; the right PIN during the lockout is refused', async () => {
    const alert = makeAlert({ severity: 'warning' });
    await gw!.publish(alert);
    await gw!.waitFor('the alert to be taken in', () => gw!.handled.length === 1);
    const wrong = [{ waitForPrompt: 'enter-pin' }, { press: '9999#' }];
    gw!.line.ring({ callerId: '100', then: [...wrong, ...wrong, ...wrong] });
    await gw!.waitFor('the failed inbound call', () => inboundCalls() === 1);
    const first = gw!.calls.find((c) => c.direction === 'inbound')!;
    assert.equal(first.outcome, 'failed');
    assert.match(first.error ?? '', /3 wrong PINs in this call; caller locked out after wrong PINs until/);
    assert.equal(first.digits, 'x#x#x#', 'PIN tries are masked in the published record');
    assert.equal(await gw!.metric('offhook_gateway_inbound_pin_failures_total'), 3);
    assert.equal(await gw!.metric('offhook_gateway_inbound_lockouts_total'), 1);

    gw!.line.ring({
      callerId: '100',
      then: [{ waitForPrompt: 'enter-pin' }, { press: '1234#' }, { waitForPrompt: 'inbound-menu' }, { press: '1' }],
    });
    await gw!.waitFor('the refused inbound call', () => inboundCalls() === 2);
    const second = gw!.calls.filter((c) => c.direction === 'inbound')[1]!;
    assert.equal(second.outcome, 'failed');
    assert.match(second.error ?? '', /^caller locked out after wrong PINs until /);
    assert.equal(gw!.acks.length, 0);
    assert.equal(
      gw!.transcript().filter((e) => e.event === 'play' && e.file.startsWith('enter-pin')).length,
      3,
      'the locked-out call heard no prompt',
    );
    assert.equal(await gw!.metric('offhook_gateway_inbound_rejected_total', { reason: 'locked_out' }), 1);
  });

  it('an unknown or withheld caller hears nothing and is hung up on', async () => {
    gw!.line.ring({ callerId: '5550123', then: [{ wait: 1000 }, { press: '1234#' }] });
    await gw!.waitFor('the first refused call', () => inboundCalls() === 1);
    gw!.line.ring({ callerId: null, then: [{ wait: 1000 }, { press: '1234#' }] });
    await gw!.waitFor('the second refused call', () => inboundCalls() === 2);
    assert.deepEqual(
      gw!.calls.map((c) => [c.outcome, c.error]),
      [
        ['failed', 'unknown caller'],
        ['failed', 'caller ID withheld'],
      ],
    );
    assert.equal(gw!.transcript().filter((e) => e.event === 'play').length, 0);
    assert.equal(await gw!.metric('offhook_gateway_inbound_rejected_total', { reason: 'unknown' }), 1);
    assert.equal(await gw!.metric('offhook_gateway_inbound_rejected_total', { reason: 'withheld' }), 1);
  });
});
