import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../../shared/index.ts';
import type { SipLineConfigInput } from '../../../../telephony-gateway/drivers/sip/config.ts';
import { SipLine } from '../../../../telephony-gateway/drivers/sip/sip-line.ts';
import { parseWav } from '../../../../telephony-gateway/drivers/sip/wav.ts';
import { killAndWait, spawnTracked } from '../../../../deploy/lib/processes.ts';
import { makePrompt, sipConfig } from './fixtures.ts';
import { startSipp, type Sipp } from './sipp.ts';

describe('sip line against SIPp', function () {
  this.timeout(60_000);
  let dir: string;
  let prompt: string;
  let line: SipLine | null = null;
  let sipp: Sipp | null = null;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-sip-'));
    prompt = makePrompt(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    // baresip first: stopped, it ends its calls; SIPp stopped first would leave it re-sending BYE.
    await line?.close();
    line = null;
    if (sipp) await killAndWait(sipp.child, 'SIGKILL');
    sipp = null;
  });

  async function openLine(dialTarget: Sipp | null, extra: Partial<SipLineConfigInput> = {}): Promise<SipLine> {
    const config = sipConfig({
      ...(dialTarget
        ? { dial_uri: `sip:{number}@127.0.0.1:${dialTarget.port}` }
        : { dial_uri: 'sip:{number}@127.0.0.1:9' }),
      ...extra,
    });
    line = new SipLine({
      config,
      runDir: join(dir, `run-${Date.now()}`),
      logger: silentLogger(),
      spawnProcess: spawnTracked,
      stopGraceMs: 3_000,
    });
    await line.open();
    return line;
  }

  it('answered, the person presses 1 during the prompt: the digit stops the prompt and is collected', async () => {
    sipp = await startSipp('uas_answer_press1.xml');
    const sip = await openLine(sipp);
    const placed = await sip.placeCall('4930123', { answerTimeoutMs: 10_000 });
    assert.equal(placed.outcome, 'answered');
    const played = await sip.play(prompt, { interruptOnDigit: true });
    assert.deepEqual(played, { interruptedBy: '1', hungUp: false });
    assert.deepEqual(await sip.collect({ maxDigits: 1, timeoutMs: 5_000 }), { digits: '1', reason: 'max_digits' });
    await sip.hangUp();
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('486 Busy Here is busy, with the SIP status in the detail', async () => {
    sipp = await startSipp('uas_busy.xml');
    const sip = await openLine(sipp);
    const placed = await sip.placeCall('4930123', { answerTimeoutMs: 10_000 });
    assert.equal(placed.outcome, 'busy');
    assert.equal(placed.detail, 'SIP 486 Busy Here');
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('never answered: the own no-answer timer cancels the call (SIPp sees the CANCEL)', async () => {
    sipp = await startSipp('uas_no_answer.xml');
    const sip = await openLine(sipp);
    const placed = await sip.placeCall('4930123', { answerTimeoutMs: 1_500 });
    assert.equal(placed.outcome, 'no_answer');
    assert.match(placed.detail ?? '', /no answer within 1500 ms/);
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
    assert.equal(sip.inCall, false);
  });

  it('keys relayed as SIP INFO (application/dtmf-relay) arrive as digits too', async () => {
    sipp = await startSipp('uas_info_dtmf.xml');
    const sip = await openLine(sipp);
    assert.equal((await sip.placeCall('4930123', { answerTimeoutMs: 10_000 })).outcome, 'answered');
    assert.deepEqual(await sip.collect({ maxDigits: 1, timeoutMs: 10_000 }), { digits: '5', reason: 'max_digits' });
    assert.deepEqual(await sip.collect({ maxDigits: 1, timeoutMs: 10_000 }), { digits: '', reason: 'hangup' });
    await sip.hangUp();
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('the person hangs up mid-prompt: play reports the hang-up and onHangup fires', async () => {
    sipp = await startSipp('uas_hangup_mid_prompt.xml');
    const sip = await openLine(sipp);
    let hangups = 0;
    sip.onHangup(() => hangups++);
    assert.equal((await sip.placeCall('4930123', { answerTimeoutMs: 10_000 })).outcome, 'answered');
    assert.deepEqual(await sip.play(prompt, { interruptOnDigit: true }), { interruptedBy: null, hungUp: true });
    assert.equal(hangups, 1);
    assert.deepEqual(await sip.collect({ maxDigits: 1, timeoutMs: 5_000 }), { digits: '', reason: 'hangup' });
    await sip.hangUp();
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('inbound call: rings with the caller number, PIN 1234# then 1 are collected', async () => {
    const sip = await openLine(null);
    const rang = new Promise<{ callerId: string | null }>((resolve) => sip.onRing(resolve));
    const sipPort = sip.supervisor.endpoint!.sipPort;
    sipp = await startSipp('uac_pin_ack.xml', { target: `127.0.0.1:${sipPort}`, extra: ['-s', 'gw', '-d', '1500'] });
    assert.deepEqual(await rang, { callerId: '+4930555123' });
    assert.deepEqual(await sip.answerInbound(), { callerId: '+4930555123' });
    const short = makePrompt(dir, 'short.wav', 16000, 1);
    assert.deepEqual(await sip.play(short), { interruptedBy: null, hungUp: false });
    assert.deepEqual(await sip.collect({ maxDigits: 8, timeoutMs: 10_000, termKey: '#' }), {
      digits: '1234',
      reason: 'term_key',
    });
    assert.deepEqual(await sip.collect({ maxDigits: 1, timeoutMs: 10_000 }), { digits: '1', reason: 'max_digits' });
    await sip.hangUp();
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('records a voice note: the caller speaks, # ends it, the WAV holds what was said, no audio kept', async () => {
    const sip = await openLine(null);
    const rang = new Promise<void>((resolve) => sip.onRing(() => resolve()));
    sipp = await startSipp('uac_voice_note.xml', {
      target: `127.0.0.1:${sip.supervisor.endpoint!.sipPort}`,
      extra: ['-s', 'gw'],
    });
    await rang;
    await sip.answerInbound();
    const note = join(dir, 'note.wav');
    const recorded = await sip.record(note, { timeoutMs: 30_000, termKey: '#' });
    assert.equal(recorded.reason, 'term_key');
    const audio = parseWav(readFileSync(note), note);
    assert.deepEqual([audio.sampleRate, audio.channels], [8000, 1]);
    assert.ok(
      audio.samples.length >= 8000 * 5,
      `expected the 7 s the caller said, got ${audio.samples.length} samples`,
    );
    assert.ok(
      audio.samples.some((sample) => Math.abs(sample) > 1000),
      'the recording is not silence',
    );
    assert.deepEqual(
      await sip.collect({ maxDigits: 1, timeoutMs: 100 }),
      { digits: '', reason: 'timeout' },
      'the # that ended the note is not a menu choice',
    );
    await sip.hangUp();
    assert.deepEqual(readdirSync(sip.supervisor.callAudioDir), []);
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });
});
