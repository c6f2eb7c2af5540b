import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLine, type Line } from '../../native/index.ts';
import { until } from '../helpers/wait.ts';
import { readWavHeader, writeWav } from './wav-files.ts';

const STUB_SOURCE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'vpb-stub.c');
// VPBAPI.H event types and tone ids the stub is told to post.
const EVENT = { ring: 0, tone: 2, dtmf: 8, drop: 12, playEnd: 100 };
const TONE = { dial: 0, ringback: 1, busy: 2 };

describe('native vpb line (against a stub libvpb built from C)', () => {
  let dir: string;
  let cLibrary: string;
  let cxxLibrary: string;
  let log: string;
  let control: string;
  let prompt: string;
  let line: Line | undefined;

  before(function () {
    this.timeout(60_000);
    dir = mkdtempSync(join(tmpdir(), 'offhook-vpb-'));
    cLibrary = join(dir, 'libvpb.so');
    cxxLibrary = join(dir, 'libvpb-cxx.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', cLibrary, STUB_SOURCE, '-lpthread']);
    // Built as C++ the stub exports mangled names, like the real libvpb whose header has no extern "C".
    execFileSync('g++', ['-x', 'c++', '-shared', '-fPIC', '-O1', '-o', cxxLibrary, STUB_SOURCE, '-lpthread']);
    prompt = writeWav(join(dir, 'prompt.wav'), 500);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let run = 0;
  beforeEach(() => {
    run++;
    log = join(dir, `calls-${run}.log`);
    control = join(dir, `control-${run}.txt`);
    writeFileSync(control, '');
    process.env.OFFHOOK_VPB_STUB_LOG = log;
    process.env.OFFHOOK_VPB_STUB_CONTROL = control;
    delete process.env.OFFHOOK_VPB_STUB_OPEN_FAIL;
  });
  afterEach(async () => {
    await line?.close();
    line = undefined;
  });

  const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const post = (type: number, data: number): void => appendFileSync(control, `event ${type} ${data}\n`);
  const press = (digit: string): void => post(EVENT.dtmf, digit.charCodeAt(0));

  /** Waits until the stub has logged a call matching `pattern` (the line calls libvpb from its worker threads). */
  async function called(pattern: RegExp): Promise<void> {
    await until(() => calls().some((c) => pattern.test(c)), `the stub to log ${pattern}`, 30_000);
  }

  async function open(library = cLibrary): Promise<Line> {
    line = await openLine({
      backend: 'vpb',
      vpb: { libraryPath: library, board: 0, channel: 0, interRingbackMs: 300, ringbackTimeoutMs: 5000 },
    });
    return line;
  }

  async function connect(l: Line): Promise<void> {
    await l.offHook();
    post(EVENT.tone, TONE.dial);
    assert.equal(await l.waitForDialTone(5000), true);
    await l.dial('0312345678');
    post(EVENT.tone, TONE.ringback);
    post(EVENT.tone, TONE.ringback);
    assert.equal(await l.waitForAnswer(20000), 'answered');
  }

  it('places a call through libvpb: off hook, dial tone, dial, answer, prompt, digit, on hook', async () => {
    const l = await open();
    const tones: string[] = [];
    l.on('tone', (tone) => tones.push(tone));
    await connect(l);
    const played = l.play(prompt);
    await called(/^vpb_play_file_async /);
    post(EVENT.playEnd, 0);
    assert.deepEqual(await played, { interruptedBy: null, hungUp: false });
    press('1');
    assert.deepEqual(await l.collect({ maxDigits: 1, timeoutMs: 5000 }), { digits: '1', reason: 'max_digits' });
    await l.onHook();
    await l.close();
    line = undefined;
    assert.deepEqual(tones, ['dial', 'ringback', 'ringback']);
    // The event thread's first poll interleaves with the rest, so it is checked on its own.
    assert.ok(calls().includes('vpb_get_event_ch_sync 3 100'));
    assert.deepEqual(
      calls().filter((c) => !c.startsWith('vpb_get_event_ch_sync')),
      [
        'vpb_seterrormode 1', // VPB_ERROR_CODE: errors come back as codes instead of abort()
        'vpb_open 0 0',
        'vpb_sethook_sync 3 0',
        'vpb_set_event_mask 3 4357', // VPB_MRING | VPB_MTONEDETECT | VPB_MDTMF | VPB_MDROP
        'vpb_sethook_sync 3 1',
        'vpb_flush_digits 3',
        'vpb_dial_sync 3 0312345678',
        `vpb_play_file_async 3 ${prompt} 0`,
        'vpb_get_digits_async 3 term= max=1 timeout=5000 inter=5000',
        'vpb_sethook_sync 3 0',
        'vpb_close 3',
      ],
    );
  });

  it('reads busy, no ringback and no answer from the tone events', async () => {
    const l = await open();
    await l.offHook();
    await l.dial('555');
    post(EVENT.tone, TONE.busy);
    assert.equal(await l.waitForAnswer(20000), 'busy');
    await l.onHook();
    await l.offHook();
    await l.dial('556');
    post(EVENT.tone, TONE.ringback);
    // Ringback still within interRingbackMs when the caller's timeout passes: nobody answered yet.
    assert.equal(await l.waitForAnswer(0), 'no_answer');
    await l.close();
    // the stub replays its control file from the start at each vpb_open
    control = join(dir, `control-${run}-quiet.txt`);
    writeFileSync(control, '');
    process.env.OFFHOOK_VPB_STUB_CONTROL = control;
    // No ringback at all within ringbackTimeoutMs after dialling: VPB_CALL_NO_RING_BACK.
    line = await openLine({ backend: 'vpb', vpb: { libraryPath: cLibrary, ringbackTimeoutMs: 100 } });
    await line.offHook();
    await line.dial('557');
    assert.equal(await line.waitForAnswer(20000), 'no_ringback');
  });

  it('returns hungUp when the loop drops during a prompt, and terminates the prompt', async () => {
    const l = await open();
    let hangups = 0;
    l.on('hangup', () => hangups++);
    await connect(l);
    const played = l.play(prompt, { interruptOnDigit: true });
    await called(/^vpb_play_file_async /);
    post(EVENT.drop, 0);
    assert.deepEqual(await played, { interruptedBy: null, hungUp: true });
    assert.equal(hangups, 1);
    assert.ok(calls().includes('vpb_play_terminate 3'));
    assert.deepEqual(await l.collect({ maxDigits: 1, timeoutMs: 5000 }), { digits: '', reason: 'hangup' });
  });

  it('stops a prompt at a digit and keeps the digit for collect', async () => {
    const l = await open();
    await connect(l);
    const played = l.play(prompt, { interruptOnDigit: true });
    await called(/^vpb_play_file_async /);
    press('2');
    assert.deepEqual(await played, { interruptedBy: '2', hungUp: false });
    assert.ok(calls().includes('vpb_play_terminate 3'));
    assert.deepEqual(await l.play(prompt, { interruptOnDigit: true }), { interruptedBy: '2', hungUp: false });
    assert.deepEqual(await l.collect({ maxDigits: 4, timeoutMs: 2000, interDigitTimeoutMs: 50, termKey: '#' }), {
      digits: '2',
      reason: 'timeout',
    });
    assert.ok(calls().includes('vpb_get_digits_async 3 term=# max=4 timeout=2000 inter=50'));
  });

  it('records until the term key and until the timeout, leaving valid WAV files', async () => {
    const l = await open();
    await connect(l);
    const message = join(dir, 'message.wav');
    const recording = l.record(message, { timeoutMs: 5000, termKey: '#' });
    await called(/^vpb_record_file_async /);
    press('#');
    const byKey = await recording;
    assert.equal(byKey.reason, 'term_key');
    assert.deepEqual(
      calls().filter((c) => c.startsWith('vpb_record')),
      ['vpb_record_set 3 term=# timeout=5000', `vpb_record_file_async 3 ${message} 0`],
    );
    assert.deepEqual(Object.values(readWavHeader(message)).slice(0, 4), [1, 1, 8000, 16]);

    const short = join(dir, 'short.wav');
    assert.equal((await l.record(short, { timeoutMs: 200 })).reason, 'timeout');
    assert.equal(readWavHeader(short).durationMs, 200);
  });

  it('answers an inbound call with caller ID decoded between the first two rings, then collects a PIN', async () => {
    process.env.OFFHOOK_VPB_STUB_CALLER_ID = '0398765432';
    try {
      const l = await open();
      const rings: Array<string | null> = [];
      l.on('ring', ({ callerId }) => rings.push(callerId));
      const ringing = l.waitForRing(30000);
      post(EVENT.ring, 0);
      await called(/^vpb_record_buf_sync /);
      post(EVENT.ring, 0);
      assert.deepEqual(await ringing, { callerId: '0398765432' });
      assert.equal(l.callerId, '0398765432');
      // The first ring is announced once caller ID (sent before the second ring) is decoded; later rings as they come.
      assert.deepEqual(rings, ['0398765432']);
      post(EVENT.ring, 0);
      await new Promise<void>((resolve) => {
        const third = (): void => void (l.off('ring', third), resolve());
        l.on('ring', third);
      });
      assert.deepEqual(rings, ['0398765432', '0398765432']);
      assert.ok(calls().includes('vpb_record_buf_start 3 0'));
      assert.ok(calls().includes('vpb_record_buf_finish 3'));
      assert.ok(calls().some((c) => /^vpb_cid_decode samples=\d+$/.test(c) && !c.endsWith('=0')));
      await l.offHook();
      for (const digit of '4711') press(digit);
      assert.deepEqual(await l.collect({ maxDigits: 4, timeoutMs: 5000 }), { digits: '4711', reason: 'max_digits' });
    } finally {
      delete process.env.OFFHOOK_VPB_STUB_CALLER_ID;
    }
  });

  it('resolves the C++ (mangled) names the real libvpb exports', async () => {
    const exported = execFileSync('nm', ['-D', '--defined-only', cxxLibrary], { encoding: 'utf8' });
    assert.match(exported, / T _Z8vpb_openjj$/m);
    assert.doesNotMatch(exported, / T vpb_open$/m);
    const l = await open(cxxLibrary);
    await connect(l);
    await l.onHook();
    assert.ok(calls().includes('vpb_dial_sync 3 0312345678'));
  });

  it('rejects "+" on an analog line and bad dial strings before calling libvpb', async () => {
    const l = await open();
    await l.offHook();
    await assert.rejects(
      l.dial('+81312345678'),
      /an analog line cannot dial '\+'; write the international access code/,
    );
    await assert.rejects(l.dial('03-1234'), /'-' at position 3/);
    assert.ok(!calls().some((c) => c.startsWith('vpb_dial_sync')));
  });

  it('fails at open naming the library when libvpb is missing or vpb_open fails; the process still exits', async () => {
    await assert.rejects(
      openLine({ backend: 'vpb', vpb: { libraryPath: join(dir, 'nowhere', 'libvpb.so') } }),
      (error: Error & { code?: string }) =>
        error.code === 'ENOVPB' &&
        /cannot load the Voicetronix library .*nowhere\/libvpb\.so .*set vpb\.libraryPath/.test(error.message),
    );
    process.env.OFFHOOK_VPB_STUB_OPEN_FAIL = '1';
    await assert.rejects(
      openLine({ backend: 'vpb', vpb: { libraryPath: cLibrary, board: 1, channel: 2 } }),
      /vpb_open\(board 1, channel 2\) failed with code -5: check that the card is installed/,
    );
  });
});
