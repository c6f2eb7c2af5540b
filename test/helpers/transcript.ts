import { readFileSync, watch } from 'node:fs';
import type { TranscriptEntry } from '../../native/line.ts';

export function readTranscript(file: string): TranscriptEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as TranscriptEntry);
}

/** Resolves when the sim line's transcript file shows `event` (fs.watch; the timeout is only a failure bound). */
export function waitForTranscript(file: string, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => readTranscript(file).some((e) => e.event === event);
    const watcher = watch(file, () => {
      if (!check()) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    });
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`no ${event} in ${file} after ${timeoutMs} ms`));
    }, timeoutMs);
    if (check()) {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
  });
}

/** Throws if the line ever went off hook while already off hook; returns the number of calls. */
export function assertOneCallAtATime(transcript: TranscriptEntry[]): number {
  let offHook = false;
  let calls = 0;
  for (const entry of transcript) {
    if (entry.event === 'off_hook') {
      if (offHook) throw new Error(`off_hook at t=${entry.t} while the line was already off hook`);
      offHook = true;
      calls++;
    } else if (entry.event === 'on_hook') {
      offHook = false;
    }
  }
  return calls;
}
