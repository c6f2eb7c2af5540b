import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Say } from './narrator.ts';

type Entry = { event: string; number?: string; file?: string; digit?: string; digits?: string; durationMs?: number; interruptedBy?: string | null; detail?: string };

/**
 * Shows what happened on the simulated line, from the gateway's transcript file: what was dialled,
 * what was spoken (the text kept beside each prompt), what the far end pressed.
 */
export class LineView {
  private offset = 0;
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly transcriptPath: string, private readonly speechDir: string, private readonly say: Say) {}

  start(pollMs = 200): void {
    this.timer = setInterval(() => this.poll(), pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.poll();
  }

  private poll(): void {
    if (!existsSync(this.transcriptPath)) return;
    const size = statSync(this.transcriptPath).size;
    if (size <= this.offset) return;
    const fd = openSync(this.transcriptPath, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buffer.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.show(JSON.parse(line) as Entry);
    } finally {
      closeSync(fd);
    }
  }

  private show(entry: Entry): void {
    switch (entry.event) {
      case 'off_hook':
        return this.say('line', 'off hook');
      case 'dial':
        return this.say('line', `dialling ${entry.number}`);
      case 'answered':
      case 'busy':
      case 'no_answer':
      case 'far_hangup':
        return this.say('line', entry.event.replace('_', ' '));
      case 'play':
        return this.say('line', `speaking: "${spokenText(this.speechDir, entry.file ?? '')}"${entry.interruptedBy ? ` (cut short by key ${entry.interruptedBy})` : ''}`);
      case 'press':
        return this.say('line', `far end pressed ${entry.digit}`);
      case 'on_hook':
        return this.say('line', 'on hook');
      default:
        return;
    }
  }
}

/** The gateway keeps each prompt's text beside its WAV in the speech cache. */
function spokenText(speechDir: string, wavFile: string): string {
  try {
    return readFileSync(join(speechDir, `${basename(wavFile)}.txt`), 'utf8').trim();
  } catch {
    return basename(wavFile);
  }
}
