import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Severity } from '../../shared/index.ts';
import { sanitizeSpeech } from './wording.ts';

const execFileAsync = promisify(execFile);
const RENDER_TIMEOUT_MS = 20_000;

export interface SpeechOptions {
  cacheDir: string;
  voice: string;
  wordsPerMinute: number;
  maxChars: number;
  /** Recorded prompts per rule (`<rule>_<warn|crit>.wav` or `<rule>.wav`). */
  recordingsDir?: string;
  espeakPath?: string;
  soxPath?: string;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function runWithStdin(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RENDER_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')).slice(-2000));
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${err.message}; install espeak-ng or set speech paths`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with ${code ?? signal}: ${stderr.trim().slice(0, 300)}`));
    });
    child.stdin.end(input);
  });
}

/**
 * Text to 8 kHz mono 16-bit WAV through espeak-ng and sox, cached by a hash of voice, speed and
 * text so a prompt is rendered once. Both tools run with argument vectors and the text goes in on
 * stdin: no shell, and espeak-ng is not told to interpret markup.
 */
export class Speech {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly options: SpeechOptions) {}

  /** File name stem: `name` keeps prompts recognisable in the line transcript. */
  async render(text: string, name = 'speech'): Promise<string> {
    const clean = sanitizeSpeech(text, this.options.maxChars) || 'No text.';
    const hash = createHash('sha256')
      .update(JSON.stringify([this.options.voice, this.options.wordsPerMinute, clean]))
      .digest('hex')
      .slice(0, 20);
    const stem = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
    const target = join(this.options.cacheDir, `${stem}-${hash}.wav`);
    const pending = this.inFlight.get(target);
    if (pending) return pending;
    const work = this.renderTo(clean, target).finally(() => this.inFlight.delete(target));
    this.inFlight.set(target, work);
    return work;
  }

  private async renderTo(text: string, target: string): Promise<string> {
    if (await exists(target)) return target;
    await mkdir(this.options.cacheDir, { recursive: true });
    const raw = `${target}.${process.pid}.raw.wav`;
    const tmp = `${target}.${process.pid}.tmp.wav`;
    try {
      await runWithStdin(
        this.options.espeakPath ?? 'espeak-ng',
        ['-v', this.options.voice, '-s', String(this.options.wordsPerMinute), '-w', raw, '--stdin'],
        text,
      );
      await execFileAsync(
        this.options.soxPath ?? 'sox',
        [raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', tmp],
        { timeout: RENDER_TIMEOUT_MS },
      );
      // The text beside the prompt answers "what exactly did the gateway say?" from the line transcript alone.
      await writeFile(`${target}.txt`, `${text}\n`);
      await rename(tmp, target);
      return target;
    } finally {
      await rm(raw, { force: true });
      await rm(tmp, { force: true });
    }
  }

  /** A recorded WAV an operator left for this rule, preferred over the synthesised summary. */
  async recordingFor(rule: string, severity: Severity): Promise<string | null> {
    if (!this.options.recordingsDir) return null;
    const safe = rule.replace(/[^A-Za-z0-9_-]/g, '_');
    const short = severity === 'critical' ? 'crit' : severity === 'warning' ? 'warn' : 'info';
    for (const candidate of [`${safe}_${short}.wav`, `${safe}.wav`]) {
      const path = join(this.options.recordingsDir, candidate);
      if (await exists(path)) return path;
    }
    return null;
  }
}
