import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLine, openSimLine, type SimLine } from '../../native/index.ts';
import { writeWav } from './wav-files.ts';

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string }) => {
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

describe('native line input checks', () => {
  let dir: string;
  let line: SimLine;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-checks-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    line = await openSimLine({ speed: 1000 });
  });
  afterEach(async () => {
    await line.close();
  });

  it('accepts only 0-9 * # , + in dial strings and says which character is wrong', async () => {
    await line.offHook();
    await rejects(
      line.dial('0312a45'),
      'EBADDIAL',
      /"0312a45" has 'a' at position 5: only 0-9 \* # , \(1 s pause\) and \+ are allowed/,
    );
    await rejects(line.dial('12 34'), 'EBADDIAL', /' ' at position 3/);
    await rejects(line.dial(''), 'EBADDIAL', /empty/);
    await line.dial('+81,*#0');
    assert.deepEqual(
      line.transcript().filter((e) => e.event === 'dial'),
      [{ t: line.transcript().find((e) => e.event === 'dial')!.t, event: 'dial', number: '+81,*#0' }],
    );
  });

  it('rejects operations in the wrong hook state', async () => {
    await rejects(line.dial('123'), 'EWRONGSTATE', /dial needs the line off hook: call offHook\(\) first/);
    await rejects(line.collect({ maxDigits: 1, timeoutMs: 10 }), 'EWRONGSTATE', /collect needs the line off hook/);
    await rejects(line.waitForDialTone(10), 'EWRONGSTATE', /off hook/);
    await line.offHook();
    await rejects(line.waitForRing(10), 'EWRONGSTATE', /waitForRing needs the line on hook/);
    await rejects(line.waitForAnswer(10), 'EWRONGSTATE', /needs a dialled call/);
    assert.throws(() => line.ring({ callerId: '1' }), /cannot ring: the line is off hook/);
  });

  it('validates prompts: 8 or 16 kHz mono 16-bit PCM only, with a conversion hint', async () => {
    await line.offHook();
    const cases: Array<[string, RegExp]> = [
      [
        writeWav(join(dir, 'cd.wav'), 100, { rate: 44100 }),
        /cd\.wav: 44100 Hz; the line plays 8000 or 16000 Hz \(convert with: sox/,
      ],
      [writeWav(join(dir, 'stereo.wav'), 100, { channels: 2 }), /stereo\.wav: 2 channels; the line plays mono/],
      [writeWav(join(dir, '8bit.wav'), 100, { bits: 8 }), /8bit\.wav: 8-bit samples; the line plays 16-bit/],
      [writeWav(join(dir, 'float.wav'), 100, { pcm: false }), /float\.wav: audio format 3 is not PCM/],
      [join(dir, 'missing.wav'), /missing\.wav: cannot open prompt: No such file or directory/],
    ];
    const text = join(dir, 'notes.wav');
    writeFileSync(text, 'this is not audio at all');
    cases.push([text, /notes\.wav: not a WAV file \(no RIFF\/WAVE header\)/]);
    const truncated = join(dir, 'truncated.wav');
    writeFileSync(truncated, Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'));
    cases.push([truncated, /truncated\.wav: /]);
    for (const [file, message] of cases) await rejects(line.play(file), 'EBADWAV', message);
    assert.equal(line.transcript().filter((e) => e.event === 'play').length, 0);
  });

  it('rejects bad arguments before they reach the line', async () => {
    await line.offHook();
    assert.throws(
      () => line.collect({ maxDigits: 0, timeoutMs: 10 }),
      /maxDigits must be an integer from 1 to 64, got 0/,
    );
    assert.throws(() => line.waitForAnswer(Number.NaN), /waitForAnswer timeoutMs must be a finite number/);
    assert.throws(
      () => line.record(join(dir, 'r.wav'), { timeoutMs: -1 }),
      /record timeoutMs must be a finite number of milliseconds >= 0, got -1/,
    );
    await rejects(
      line.record(join(dir, 'r.wav'), { timeoutMs: 10, termKey: 'x' }),
      'EBADARG',
      /record termKey must be one DTMF key/,
    );
    assert.throws(
      () => line.script({ number: '1', then: [{ press: 'x' }] }),
      /sim script then\[0\]\.press: 'x' is not a DTMF key/,
    );
    assert.throws(
      () => line.script({ number: '1', then: [{ wait: -5 }] }),
      /sim script then\[0\]\.wait: expected a finite number >= 0/,
    );
    assert.throws(() => line.script({ number: '12b' }), /sim script number: dial string "12b"/);
    await assert.rejects(openLine({ backend: 'isdn' as 'sim' }), /line backend must be "vpb" or "sim", got "isdn"/);
    await assert.rejects(openSimLine({ speed: 0 }), /sim.speed must be a number > 0/);
  });

  it('rejects every operation on a closed line, and close is idempotent', async () => {
    await line.close();
    await line.close();
    await rejects(line.offHook(), 'ELINECLOSED', /the line is closed/);
    await rejects(line.waitForRing(10), 'ELINECLOSED', /closed/);
    assert.throws(() => line.script({ number: '1' }), /closed/);
  });

  it('fails a pending operation when the line closes under it', async () => {
    const outcome = rejects(line.waitForRing(3_600_000), 'ELINECLOSED', /closed/);
    await line.close();
    await outcome;
  });
});
