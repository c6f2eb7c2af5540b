import { stat } from 'node:fs/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimLine } from '../native/index.ts';
import { encodeWav, PLAYBACK_RATE } from '../telephony-gateway/drivers/sip/wav.ts';
import { percentile, report } from './lib.ts';

const OPS = 2000;
const CYCLES = 300;
const PROMPTS = 10;

/** A prompt of `ms` milliseconds (a quiet 440 Hz tone), 8 kHz mono 16-bit PCM as the line plays it. */
function writeTone(path: string, ms: number): string {
  const samples = Int16Array.from({ length: Math.round((ms * PLAYBACK_RATE) / 1000) }, (_, i) =>
    Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / PLAYBACK_RATE)),
  );
  writeFileSync(path, encodeWav(samples));
  return path;
}

const micros = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1000;

/** Line operations (AsyncWorker round trips), whole simulated calls, and how closely sim time follows the clock. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-native-bench-'));
  try {
    const prompt = writeTone(join(dir, 'prompt.wav'), 200);
    const second = writeTone(join(dir, 'second.wav'), 1000);

    // 1. One line operation: offHook (an AsyncWorker on the libuv pool, Promise settled in OnOK).
    //    Baseline: fs.promises.stat, the same pool round trip with no line behind it.
    const line = await openSimLine({ speed: 1 });
    const hookOps: number[] = [];
    for (let i = 0; i < OPS; i++) {
      const started = process.hrtime.bigint();
      await (i % 2 === 0 ? line.offHook() : line.onHook());
      hookOps.push(micros(started));
    }
    await line.close();
    const statOps: number[] = [];
    for (let i = 0; i < OPS; i++) {
      const started = process.hrtime.bigint();
      await stat(prompt);
      statOps.push(micros(started));
    }

    // 2. A whole call: open, dial, answer after 2 rings, prompt, digit, collect, close (speed 10,000).
    //    Baseline: open and close alone (thread start and join, ThreadSafeFunction create and release).
    const calls: number[] = [];
    const openClose: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      let started = process.hrtime.bigint();
      const sim = await openSimLine({ speed: 10_000 });
      sim.script({
        number: '0312345678',
        answerAfterRings: 2,
        then: [{ waitForPrompt: true, after: 50 }, { press: '1' }],
      });
      await sim.offHook();
      await sim.waitForDialTone(5000);
      await sim.dial('0312345678');
      await sim.waitForAnswer(20_000);
      await sim.play(prompt);
      await sim.collect({ maxDigits: 1, timeoutMs: 5000 });
      await sim.onHook();
      await sim.close();
      calls.push(micros(started));
      started = process.hrtime.bigint();
      await (await openSimLine({ speed: 10_000 })).close();
      openClose.push(micros(started));
    }

    // 3. Timing: a 1 s prompt at speed 1 against setTimeout(1000); the number is the overshoot in ms.
    const timed = await openSimLine({ speed: 1 });
    await timed.offHook();
    const playOvershoot: number[] = [];
    const timerOvershoot: number[] = [];
    for (let i = 0; i < PROMPTS; i++) {
      let started = process.hrtime.bigint();
      await timed.play(second);
      playOvershoot.push(micros(started) / 1000 - 1000);
      started = process.hrtime.bigint();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      timerOvershoot.push(micros(started) / 1000 - 1000);
    }
    await timed.close();

    report({
      bench: 'native',
      rows: [
        {
          name: 'line op round trip p50 (offHook/onHook)',
          value: percentile(hookOps, 50),
          unit: 'µs',
          baseline: { name: 'fs.promises.stat p50', value: percentile(statOps, 50) },
        },
        {
          name: 'line op round trip p99',
          value: percentile(hookOps, 99),
          unit: 'µs',
          baseline: { name: 'fs.promises.stat p99', value: percentile(statOps, 99) },
        },
        {
          name: 'sim call open→close p50 (speed 10000)',
          value: percentile(calls, 50) / 1000,
          unit: 'ms',
          baseline: { name: 'open+close only p50', value: percentile(openClose, 50) / 1000 },
        },
        {
          name: 'sim call open→close p99',
          value: percentile(calls, 99) / 1000,
          unit: 'ms',
          baseline: { name: 'open+close only p99', value: percentile(openClose, 99) / 1000 },
        },
        {
          name: '1 s prompt overshoot p50 (speed 1)',
          value: percentile(playOvershoot, 50),
          unit: 'ms',
          baseline: { name: 'setTimeout(1000) overshoot p50', value: percentile(timerOvershoot, 50) },
        },
        {
          name: '1 s prompt overshoot max',
          value: Math.max(...playOvershoot),
          unit: 'ms',
          baseline: { name: 'setTimeout(1000) overshoot max', value: Math.max(...timerOvershoot) },
        },
      ],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
