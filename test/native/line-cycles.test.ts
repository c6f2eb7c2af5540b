import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openLine } from '../../native/index.ts';
import { spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { writeWav } from './wav-files.ts';

const here = dirname(fileURLToPath(import.meta.url));
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const threads = (): number => readdirSync('/proc/self/task').length;
const descriptors = (): number => readdirSync('/proc/self/fd').length;
const handles = (): string[] =>
  process
    .getActiveResourcesInfo()
    .filter((kind) => kind !== 'TTYWrap' && kind !== 'Timeout')
    .sort();

function settle(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

describe('native line lifecycle', function () {
  this.timeout(120_000);
  let dir: string;
  let prompt: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-cycles-'));
    prompt = writeWav(join(dir, 'prompt.wav'), 200);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function simCall(i: number): Promise<void> {
    const line = await openLine({ backend: 'sim', sim: { speed: 10_000 } });
    const number = `0312${String(i).padStart(6, '0')}`;
    line.script({ number, answerAfterRings: 2, then: [{ waitForPrompt: 'prompt', after: 100 }, { press: '1' }] });
    let dtmf = 0;
    line.on('dtmf', () => dtmf++);
    await line.offHook();
    assert.equal(await line.waitForDialTone(5000), true);
    await line.dial(number);
    assert.equal(await line.waitForAnswer(20_000), 'answered');
    await line.play(prompt);
    assert.deepEqual(await line.collect({ maxDigits: 1, timeoutMs: 5000 }), { digits: '1', reason: 'max_digits' });
    await line.onHook();
    await line.close();
    assert.equal(dtmf, 1);
  }

  it('runs 1,000 open/call/close cycles without leaking threads, descriptors, handles or memory', async () => {
    for (let i = 0; i < 50; i++) await simCall(i); // warms up the libuv pool threads and the JIT
    const before = { threads: threads(), descriptors: descriptors(), handles: handles(), rss: settle() };
    for (let i = 0; i < 1000; i++) await simCall(i);
    const after = { threads: threads(), descriptors: descriptors(), handles: handles(), rss: settle() };
    assert.equal(after.threads, before.threads, 'every line thread is joined at close');
    assert.equal(after.descriptors, before.descriptors);
    assert.deepEqual(after.handles, before.handles, 'every ThreadSafeFunction is released at close');
    // One leaked line (thread stack, transcript, handle) per cycle would be megabytes over 1,000 cycles.
    const growthMiB = (after.rss - before.rss) / 2 ** 20;
    assert.ok(growthMiB < 16, `RSS grew ${growthMiB.toFixed(1)} MiB over 1,000 cycles`);
  });

  it('opens and closes the vpb backend repeatedly without leaking its event thread or the dlopen handle', async () => {
    const library = join(dir, 'libvpb.so');
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', library, join(here, 'fixtures', 'vpb-stub.c'), '-lpthread']);
    const control = join(dir, 'control.txt');
    writeFileSync(control, '');
    process.env.OFFHOOK_VPB_STUB_CONTROL = control;
    delete process.env.OFFHOOK_VPB_STUB_LOG;
    const cycle = async (): Promise<void> => {
      const line = await openLine({ backend: 'vpb', vpb: { libraryPath: library } });
      await line.offHook();
      await line.dial('123');
      await line.onHook();
      await line.close();
    };
    await cycle();
    const before = { threads: threads(), descriptors: descriptors(), handles: handles() };
    for (let i = 0; i < 20; i++) await cycle();
    assert.deepEqual({ threads: threads(), descriptors: descriptors(), handles: handles() }, before);
  });

  it('lets the process exit on its own once the line is closed, failing what was still waiting', async () => {
    const child = spawnTracked(process.execPath, ['--import', 'tsx', join(here, 'fixtures', 'call-and-exit.ts')]);
    const exited = once(child, 'exit');
    const [line] = await waitForOutput(child, /^\{.*\}$/m, 60_000);
    assert.deepEqual(JSON.parse(line), {
      progress: 'answered',
      played: { interruptedBy: null, hungUp: false },
      collected: { digits: '1', reason: 'max_digits' },
      pending: 'ELINECLOSED',
    });
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null]);
  });
});
