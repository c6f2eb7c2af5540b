import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLine, openSimLine, type SimLine, type TranscriptEntry } from '../../native/index.ts';
import { until } from '../helpers/wait.ts';
import { readWavHeader, writeWav } from './wav-files.ts';

// Line time runs 50x faster than real time: a 3 s ring period passes in 60 ms.
const SPEED = 50;
const RING = 3000;
const DIGIT = 100;

/** The transcript without times, for comparing what happened in what order. */
function events(transcript: TranscriptEntry[]): Array<Omit<TranscriptEntry, 't'>> {
  return transcript.map(({ t: _t, ...rest }) => rest);
}

function entry(transcript: TranscriptEntry[], event: TranscriptEntry['event']): TranscriptEntry & { detail?: string } {
  const found = transcript.find((e) => e.event === event);
  assert.ok(found, `no ${event} in transcript ${JSON.stringify(transcript)}`);
  return found;
}

describe('native sim line', () => {
  let dir: string;
  let line: SimLine;
  let alertWav: string;
  let menuWav: string;
  let beepWav: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-sim-'));
    alertWav = writeWav(join(dir, 'alert.wav'), 1000);
    menuWav = writeWav(join(dir, 'menu.wav'), 3000, { rate: 16000 });
    beepWav = writeWav(join(dir, 'beep.wav'), 200);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  beforeEach(async () => {
    line = await openLine({ backend: 'sim', sim: { speed: SPEED, ringPeriodMs: RING } });
  });
  afterEach(async () => {
    await line.close();
  });

  async function callAndAnswer(number: string): Promise<void> {
    await line.offHook();
    assert.equal(await line.waitForDialTone(5000), true);
    await line.dial(number);
    assert.equal(await line.waitForAnswer(20000), 'answered');
  }

  it('places an outbound call: dial tone, dial, answer after 2 rings, prompt, far end presses 1, on hook', async () => {
    const tones: string[] = [];
    const dtmf: string[] = [];
    line.on('tone', (tone) => tones.push(tone));
    line.on('dtmf', (digit) => dtmf.push(digit));
    line.script({
      number: '+81312345678',
      answerAfterRings: 2,
      then: [{ waitForPrompt: 'alert', after: 500 }, { press: '1' }],
    });

    assert.equal(line.hookState, 'on');
    await line.offHook();
    assert.equal(line.hookState, 'off');
    assert.equal(await line.waitForDialTone(5000), true);
    await line.dial('+81312345678');
    assert.equal(await line.waitForAnswer(20000), 'answered');
    assert.deepEqual(await line.play(alertWav), { interruptedBy: null, hungUp: false });
    assert.deepEqual(await line.collect({ maxDigits: 1, timeoutMs: 5000 }), { digits: '1', reason: 'max_digits' });
    await line.onHook();
    assert.equal(line.hookState, 'on');

    const transcript = line.transcript();
    assert.deepEqual(events(transcript), [
      { event: 'off_hook' },
      { event: 'dial_tone' },
      { event: 'dial', number: '+81312345678' },
      { event: 'answered', detail: '+81312345678' },
      { event: 'play', file: 'alert.wav', durationMs: 1000, playedMs: 1000, interruptedBy: null },
      { event: 'press', digit: '1' },
      { event: 'collect', digits: '1', reason: 'max_digits' },
      { event: 'on_hook' },
    ]);
    // Scheduled times are exact in line time whatever the speed: 11 digits, then two ring periods.
    const dial = entry(transcript, 'dial');
    assert.ok(Math.abs(entry(transcript, 'answered').t - dial.t - (11 * DIGIT + 2 * RING)) <= 1);
    assert.ok(Math.abs(entry(transcript, 'press').t - entry(transcript, 'play').t - 500) <= 1);
    assert.deepEqual(tones, ['dial', 'ringback', 'ringback']);
    assert.deepEqual(dtmf, ['1']);
  });

  it('reports busy', async () => {
    const tones: string[] = [];
    line.on('tone', (tone) => tones.push(tone));
    line.script({ number: '555', busy: true });
    await line.offHook();
    await line.dial('555');
    assert.equal(await line.waitForAnswer(20000), 'busy');
    assert.ok(tones.includes('busy'));
    assert.ok(line.transcript().some((e) => e.event === 'busy'));
  });

  it('reports no answer when the timeout passes first, for a noAnswer script and an unscripted number', async () => {
    line.script({ number: '556', noAnswer: true });
    await line.offHook();
    await line.dial('556');
    assert.equal(await line.waitForAnswer(20000), 'no_answer');
    await line.onHook();
    await line.offHook();
    await line.dial('999');
    assert.equal(await line.waitForAnswer(20000), 'no_answer');
    assert.equal(line.transcript().filter((e) => e.event === 'no_answer').length, 2);
  });

  it('uses scripts for one number first in, first out', async () => {
    line.script({ number: '557', busy: true });
    line.script({ number: '557', answerAfterRings: 0 });
    await line.offHook();
    await line.dial('557');
    assert.equal(await line.waitForAnswer(20000), 'busy');
    await line.onHook();
    await callAndAnswer('557');
  });

  it('ends a prompt with hungUp when the far end hangs up during it, and emits hangup', async () => {
    line.script({
      number: '600',
      answerAfterRings: 1,
      then: [{ waitForPrompt: 'menu', after: 700 }, { hangUp: true }],
    });
    let hangups = 0;
    line.on('hangup', () => hangups++);
    await callAndAnswer('600');
    assert.deepEqual(await line.play(menuWav, { interruptOnDigit: true }), { interruptedBy: null, hungUp: true });
    assert.equal(hangups, 1, 'the hangup event arrives before the prompt that it cut short settles');
    assert.deepEqual(await line.collect({ maxDigits: 1, timeoutMs: 5000 }), { digits: '', reason: 'hangup' });
    assert.deepEqual(await line.play(alertWav), { interruptedBy: null, hungUp: true });
    assert.equal(hangups, 1);
    const play = line.transcript().find((e) => e.event === 'play');
    assert.ok(play && play.event === 'play' && play.playedMs < 3000, JSON.stringify(play));
    assert.deepEqual(entry(line.transcript(), 'far_hangup').detail, 'script');
  });

  it('hangs up hangUpAfter ms after answering whatever the steps say', async () => {
    line.script({ number: '601', answerAfterRings: 0, hangUpAfter: 2000, then: [{ wait: 60000 }, { press: '1' }] });
    await callAndAnswer('601');
    assert.deepEqual(await line.collect({ maxDigits: 1, timeoutMs: 20000 }), { digits: '', reason: 'hangup' });
    const t = line.transcript();
    assert.ok(Math.abs(entry(t, 'far_hangup').t - entry(t, 'answered').t - 2000) <= 1);
  });

  it('stops an interruptible prompt at a digit, keeps it for collect, lets it fall through the next one', async () => {
    line.script({ number: '602', answerAfterRings: 0, then: [{ waitForPrompt: 'menu', after: 400 }, { press: '2' }] });
    await callAndAnswer('602');
    assert.deepEqual(await line.play(menuWav, { interruptOnDigit: true }), { interruptedBy: '2', hungUp: false });
    // CTPort's sticky digit: a key already pressed skips the next interruptible prompt.
    assert.deepEqual(await line.play(alertWav, { interruptOnDigit: true }), { interruptedBy: '2', hungUp: false });
    assert.deepEqual(await line.collect({ maxDigits: 3, timeoutMs: 1000 }), { digits: '2', reason: 'timeout' });
    const plays = line.transcript().filter((e) => e.event === 'play');
    assert.deepEqual(
      plays.map((p) => p.event === 'play' && [p.file, p.durationMs, p.playedMs, p.interruptedBy]),
      [
        ['menu.wav', 3000, 400, '2'],
        ['alert.wav', 1000, 0, '2'],
      ],
    );
  });

  it('collects up to a term key and honours the inter-digit timeout', async () => {
    line.script({
      number: '603',
      answerAfterRings: 0,
      then: [{ wait: 100 }, { press: '12#' }, { wait: 300 }, { press: '7' }],
    });
    await callAndAnswer('603');
    assert.deepEqual(await line.collect({ maxDigits: 6, timeoutMs: 10000, termKey: '#' }), {
      digits: '12',
      reason: 'term_key',
    });
    assert.deepEqual(await line.collect({ maxDigits: 6, timeoutMs: 10000, interDigitTimeoutMs: 1000 }), {
      digits: '7',
      reason: 'timeout',
    });
  });

  it('records until the term key, writing a WAV as long as the recording', async () => {
    line.script({
      number: '604',
      answerAfterRings: 0,
      then: [{ waitForPrompt: 'beep', after: 200 }, { wait: 1000 }, { press: '#' }],
    });
    await callAndAnswer('604');
    await line.play(beepWav);
    const file = join(dir, 'message.wav');
    const result = await line.record(file, { timeoutMs: 10000, termKey: '#' });
    assert.equal(result.reason, 'term_key');
    assert.ok(result.durationMs > 0 && result.durationMs <= 1000, String(result.durationMs));
    const header = readWavHeader(file);
    assert.deepEqual([header.format, header.channels, header.rate, header.bits], [1, 1, 8000, 16]);
    assert.equal(header.durationMs, result.durationMs);
    // The key that ended the recording is consumed, not left for the next menu.
    assert.deepEqual(await line.collect({ maxDigits: 1, timeoutMs: 100 }), { digits: '', reason: 'timeout' });
  });

  it('records until the timeout when no key comes', async () => {
    line.script({ number: '605', answerAfterRings: 0 });
    await callAndAnswer('605');
    const file = join(dir, 'timeout.wav');
    assert.deepEqual(await line.record(file, { timeoutMs: 1500, termKey: '#' }), {
      reason: 'timeout',
      durationMs: 1500,
    });
    assert.equal(readWavHeader(file).dataBytes, 1500 * 8 * 2);
    assert.deepEqual(events(line.transcript()).at(-1), {
      event: 'record',
      file: 'timeout.wav',
      durationMs: 1500,
      reason: 'timeout',
    });
  });

  it('answers an inbound call with caller ID and collects a PIN', async () => {
    const rings: Array<string | null> = [];
    line.on('ring', ({ callerId }) => rings.push(callerId));
    line.ring({ callerId: '0312345678', then: [{ waitForPrompt: 'beep', after: 100 }, { press: '4711' }] });
    assert.deepEqual(await line.waitForRing(30000), { callerId: '0312345678' });
    assert.equal(line.callerId, '0312345678');
    await line.offHook();
    await line.play(beepWav);
    assert.deepEqual(await line.collect({ maxDigits: 4, timeoutMs: 5000 }), { digits: '4711', reason: 'max_digits' });
    assert.deepEqual(rings, ['0312345678']);
    assert.deepEqual(events(line.transcript()).slice(0, 3), [
      { event: 'ring', detail: '0312345678' },
      { event: 'off_hook' },
      { event: 'answered', detail: 'inbound' },
    ]);
  });

  it('rings with a withheld number and gives up after maxRings', async () => {
    line.ring({ callerId: null, maxRings: 2 });
    assert.deepEqual(await line.waitForRing(30000), { callerId: null });
    assert.equal(line.callerId, null);
    await until(() => line.transcript().some((e) => e.event === 'far_hangup'), 'the far end to hang up', 30_000);
    assert.deepEqual(
      events(line.transcript()).map((e) => e.event),
      ['ring', 'ring', 'far_hangup'],
    );
    assert.equal(await line.waitForRing(3000), null);
  });

  it('keeps the most recent 10,000 transcript entries on a long-lived line', async () => {
    line.script({ number: '700', answerAfterRings: 0, then: [{ press: '1'.repeat(10_050) }] });
    await callAndAnswer('700');
    assert.deepEqual(await line.collect({ maxDigits: 64, timeoutMs: 5000 }), {
      digits: '1'.repeat(64),
      reason: 'max_digits',
    });
    const transcript = line.transcript();
    assert.equal(transcript.length, 10_000);
    assert.equal(transcript[0]!.event, 'press');
    assert.deepEqual(events(transcript).at(-1), { event: 'collect', digits: '1'.repeat(64), reason: 'max_digits' });
  });

  it('has no dial tone when the exchange is dead', async () => {
    const dead = await openSimLine({ speed: 1000, noDialTone: true });
    try {
      await dead.offHook();
      assert.equal(await dead.waitForDialTone(5000), false);
    } finally {
      await dead.close();
    }
  });
});
