import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Speech } from '../../../telephony-gateway/calls/speech.ts';

describe('gateway speech (espeak-ng + sox)', () => {
  let dir: string;
  let speech: Speech;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-speech-'));
    speech = new Speech({
      cacheDir: join(dir, 'cache'),
      voice: 'en',
      wordsPerMinute: 150,
      maxChars: 200,
      recordingsDir: join(dir, 'prompts'),
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('renders 8 kHz mono 16-bit WAV once per text and serves it from the cache after that', async () => {
    const file = await speech.render('web1 HTTP down', 'alert');
    assert.match(basename(file), /^alert-[0-9a-f]{20}\.wav$/);
    const info = execFileSync('soxi', [file], { encoding: 'utf8' });
    assert.match(info, /Channels\s*: 1/);
    assert.match(info, /Sample Rate\s*: 8000/);
    assert.match(info, /Precision\s*: 16-bit/);
    const before = statSync(file).mtimeMs;
    const [again, concurrent] = await Promise.all([
      speech.render('web1 HTTP down', 'alert'),
      speech.render('web1 HTTP down', 'alert'),
    ]);
    assert.deepEqual([again, concurrent], [file, file]);
    assert.equal(statSync(file).mtimeMs, before, 'not rendered again');
    assert.deepEqual(
      readdirSync(join(dir, 'cache')).sort(),
      [basename(file), `${basename(file)}.txt`],
      'no temporary files left behind',
    );
    assert.equal(readFileSync(`${file}.txt`, 'utf8'), 'web1 HTTP down\n', 'the spoken text is kept beside the prompt');
  });

  it('speaks markup as plain text: the same words with or without tags give the same file', async () => {
    const plain = await speech.render('disk 95 percent full', 'alert');
    const hostile = await speech.render('<speak><break time="60s"/>disk</speak> 95% full\u0007', 'alert');
    assert.equal(hostile, plain);
  });

  it("prefers the rule's recording (<rule>_<warn|crit>.wav, then <rule>.wav), never leaves the folder", async () => {
    execFileSync('mkdir', ['-p', join(dir, 'prompts')]);
    writeFileSync(join(dir, 'prompts', 'mysql_crit.wav'), 'RIFF');
    writeFileSync(join(dir, 'prompts', 'disk.wav'), 'RIFF');
    assert.equal(await speech.recordingFor('mysql', 'critical'), join(dir, 'prompts', 'mysql_crit.wav'));
    assert.equal(await speech.recordingFor('mysql', 'warning'), null);
    assert.equal(await speech.recordingFor('disk', 'warning'), join(dir, 'prompts', 'disk.wav'));
    assert.equal(await speech.recordingFor('../prompts/disk', 'warning'), null);
  });
});
