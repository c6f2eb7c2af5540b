import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Alert } from '../../../../shared/index.ts';
import { CallScript } from '../../../../telephony-gateway/calls/call-script.ts';
import { InboundConfig, Person } from '../../../../telephony-gateway/config.ts';
import { openSipDriver, type SipDriver } from '../../../../telephony-gateway/drivers/sip/index.ts';
import { InboundScript } from '../../../../telephony-gateway/inbound/inbound.ts';
import { Speech } from '../../../../telephony-gateway/calls/speech.ts';
import { makeAlert } from '../../helpers.ts';
import { killAndWait, spawnTracked } from '../../../../deploy/lib/processes.ts';
import { sipConfig } from './fixtures.ts';
import { startSipp, type Sipp } from './sipp.ts';

/** The gateway's own call and inbound scripts (real espeak prompts) over the sip LineDriver, against SIPp. */
describe('gateway call scripts over the sip driver', function () {
  this.timeout(90_000);
  let dir: string;
  let speech: Speech;
  let driver: SipDriver | null = null;
  let sipp: Sipp | null = null;
  const settings = {
    dialToneTimeoutMs: 5_000,
    answerTimeoutMs: 3_000,
    digitTimeoutMs: 4_000,
    maxRepeats: 0,
    maxAlertsSpoken: 3,
    maxChars: 600,
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-sip-scripts-'));
    speech = new Speech({ cacheDir: join(dir, 'speech'), voice: 'en', wordsPerMinute: 150, maxChars: 600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await driver?.close();
    driver = null;
    if (sipp) await killAndWait(sipp.child, 'SIGKILL');
    sipp = null;
  });

  async function open(dialPort: number | null): Promise<SipDriver> {
    const config = sipConfig({ dial_uri: `sip:{number}@127.0.0.1:${dialPort ?? 9}` });
    driver = await openSipDriver({
      config,
      runDir: join(dir, `run-${Date.now()}`),
      logger: silentLogger(),
      spawnProcess: spawnTracked,
      stopGraceMs: 3_000,
    });
    return driver;
  }

  async function call(scenario: string, alert: Alert = makeAlert({ severity: 'critical' })) {
    sipp = await startSipp(scenario);
    const script = new CallScript(await open(sipp.port), speech, settings);
    const result = await script.run({ number: '4930123', alerts: [alert] });
    return { result, sippCode: await sipp.exited };
  }

  it('answer + press 1 during the alert: acknowledged', async () => {
    const { result, sippCode } = await call('uas_answer_press1.xml');
    assert.equal(result.outcome, 'acknowledged');
    assert.equal(result.digits, '1');
    assert.equal(sippCode, 0, sipp?.output().slice(-1500));
  });

  it('486: busy (the escalation moves on)', async () => {
    const { result, sippCode } = await call('uas_busy.xml');
    assert.equal(result.outcome, 'busy');
    assert.equal(sippCode, 0);
  });

  it('never answers: no_answer after the answer timeout, the INVITE cancelled', async () => {
    const { result, sippCode } = await call('uas_no_answer.xml');
    assert.equal(result.outcome, 'no_answer');
    assert.equal(sippCode, 0);
  });

  it('the person hangs up mid-prompt: hung_up', async () => {
    const { result, sippCode } = await call('uas_hangup_mid_prompt.xml');
    assert.equal(result.outcome, 'hung_up');
    assert.equal(sippCode, 0);
  });

  it('baresip killed as the call is answered: a line fault; the retry after the restart is acknowledged', async () => {
    sipp = await startSipp('uas_answer_press1.xml', { extra: ['-m', '2'] });
    const sip = await open(sipp.port);
    const script = new CallScript(sip, speech, settings);
    const firstPid = sip.line.supervisor.pid!;
    const killOnAnswer = (event: { type: string }): void => {
      if (event.type !== 'CALL_ESTABLISHED') return;
      sip.line.supervisor.off('event', killOnAnswer);
      process.kill(firstPid, 'SIGKILL');
    };
    sip.line.supervisor.on('event', killOnAnswer);
    const first = await script.run({ number: '4930123', alerts: [makeAlert({ severity: 'critical' })] });
    assert.equal(first.outcome, 'failed', JSON.stringify(first));
    assert.match(first.error ?? '', /SIP line failed during the call/);
    // The gateway's line_failure path retries the same person; the line waits for the new baresip.
    const retry = await script.run({ number: '4930123', alerts: [makeAlert({ severity: 'critical' })] });
    assert.equal(retry.outcome, 'acknowledged');
    assert.notEqual(sip.line.supervisor.pid, firstPid);
  });

  it('inbound from SIPp: caller ID matches the person, PIN 1234#, 1 acknowledges the firing alert', async () => {
    const sip = await open(null);
    const person = Person.parse({ name: 'alice', number: '+4930555123', pin: '1234' });
    const inbound = new InboundScript(
      sip,
      speech,
      [person],
      InboundConfig.parse({}),
      { digitTimeoutMs: 8_000, voiceNoteDir: join(dir, 'notes') },
      Date.now,
    );
    const alert = makeAlert({ severity: 'critical' });
    const acked: string[] = [];
    const rang = new Promise<void>((resolve) => sip.onRing(() => resolve()));
    // The caller keys the PIN during the PIN prompt and 1 during the intro: both stay buffered (CTPort semantics).
    sipp = await startSipp('uac_pin_ack.xml', {
      target: `127.0.0.1:${sip.line.supervisor.endpoint!.sipPort}`,
      extra: ['-s', 'gw', '-d', '1500'],
    });
    await rang;
    const result = await inbound.handle({
      firingAlerts: () => [alert],
      acknowledge: async (a) => void acked.push(a.fingerprint),
    });
    assert.equal(result.callerId, '+4930555123');
    assert.equal(result.person, 'alice');
    assert.equal(result.outcome, 'acknowledged', JSON.stringify(result));
    assert.deepEqual(acked, [alert.fingerprint]);
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });
});
