import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Tail } from 'tail';
import type { Say } from './narrator.ts';

type Entry = {
  event: string;
  number?: string;
  file?: string;
  digit?: string;
  digits?: string;
  durationMs?: number;
  interruptedBy?: string | null;
  detail?: string;
};

/**
 * Shows what happened on the simulated line, from the gateway's transcript file: what was dialled,
 * what was spoken (the text kept beside each prompt), what the far end pressed.
 *
 * The `tail` package follows it: right for a file that is only ever appended to. (The agent's log
 * follower does not use it: `tail` loses lines when a file is rotated, see agent/logs/follower.ts.)
 */
export class LineView {
  private tail: Tail | undefined;

  constructor(
    private readonly transcriptPath: string,
    private readonly speechDir: string,
    private readonly say: Say,
  ) {}

  start(): void {
    // The file must exist before it is watched; the gateway appends to it.
    writeFileSync(this.transcriptPath, '', { flag: 'a' });
    this.tail = new Tail(this.transcriptPath, { fromBeginning: true, follow: false });
    this.tail.on('line', (line: string) => {
      if (!line.trim()) return;
      try {
        this.show(JSON.parse(line) as Entry);
      } catch {
        // A line cut in half by a crash of the gateway is not worth stopping the demo for.
      }
    });
    this.tail.on('error', (err: Error) => this.say('line', `cannot follow the line transcript: ${err.message}`));
  }

  stop(): void {
    this.tail?.unwatch();
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
      case 'play': {
        const cut = entry.interruptedBy ? ` (cut short by key ${entry.interruptedBy})` : '';
        return this.say('line', `speaking: "${spokenText(this.speechDir, entry.file ?? '')}"${cut}`);
      }
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
