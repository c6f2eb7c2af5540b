import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * baresip 1.0's aufile source needs 16-bit mono at the codec rate (8 kHz for G.711), and it ends
 * the call when the file ends. Prompts are therefore copied as 8 kHz mono with silence appended,
 * and the driver switches the source back to silence after the prompt's own length.
 */

export const PLAYBACK_RATE = 8_000;
/** Silence after each prompt, so a late source switch never reaches the end of the file. */
export const PADDING_MS = 3_000;

export class WavFormatError extends Error {}

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
}

export function parseWav(bytes: Buffer, name: string): PcmAudio {
  if (bytes.length < 12 || bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError(`${name}: expected a RIFF/WAVE file`);
  }
  let format: { audioFormat: number; channels: number; sampleRate: number; bits: number } | null = null;
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && size >= 16) {
      format = {
        audioFormat: bytes.readUInt16LE(body),
        channels: bytes.readUInt16LE(body + 2),
        sampleRate: bytes.readUInt32LE(body + 4),
        bits: bytes.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (format === null) throw new WavFormatError(`${name}: "data" chunk before "fmt " chunk`);
      if ((format.audioFormat !== 1 && format.audioFormat !== 0xfffe) || format.bits !== 16) {
        throw new WavFormatError(
          `${name}: expected 16-bit PCM, got format ${format.audioFormat} with ${format.bits} bits ` +
            `(convert with: sox IN -b 16 -e signed OUT.wav)`,
        );
      }
      if (format.channels < 1) throw new WavFormatError(`${name}: no channels`);
      const length = Math.min(size, bytes.length - body) & ~1;
      const samples = new Int16Array(length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + 2 * i);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new WavFormatError(`${name}: no "data" chunk`);
}

/** Mono at 8 kHz: channels are averaged; 16 kHz is halved by averaging sample pairs (a mild low-pass). */
export function toPlaybackRate(audio: PcmAudio, name: string): Int16Array {
  const frames = Math.floor(audio.samples.length / audio.channels);
  const mono = new Int16Array(frames);
  for (let frame = 0; frame < frames; frame++) {
    let sum = 0;
    for (let channel = 0; channel < audio.channels; channel++) sum += audio.samples[frame * audio.channels + channel]!;
    mono[frame] = Math.round(sum / audio.channels);
  }
  if (audio.sampleRate === PLAYBACK_RATE) return mono;
  if (audio.sampleRate === 2 * PLAYBACK_RATE) {
    const halved = new Int16Array(Math.floor(mono.length / 2));
    for (let i = 0; i < halved.length; i++) halved[i] = Math.round((mono[2 * i]! + mono[2 * i + 1]!) / 2);
    return halved;
  }
  throw new WavFormatError(
    `${name}: expected 8 or 16 kHz audio, got ${audio.sampleRate} Hz (convert with: sox IN -r 8000 -c 1 -b 16 OUT.wav)`,
  );
}

export function encodeWav(samples: Int16Array, sampleRate = PLAYBACK_RATE): Buffer {
  const data = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(samples[i]!, 2 * i);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export interface PreparedPrompt {
  /** The padded 8 kHz copy baresip plays. */
  file: string;
  /** Length of the prompt itself, without the padding. */
  durationMs: number;
}

/** Padded playback copies, one per source file version, kept in the driver's run directory. */
export class PromptCache {
  private readonly prepared = new Map<string, PreparedPrompt>();

  constructor(private readonly dir: string) {}

  async prepare(wavPath: string): Promise<PreparedPrompt> {
    const info = await stat(wavPath);
    const key = createHash('sha1').update(`${wavPath}\0${info.size}\0${info.mtimeMs}`).digest('hex').slice(0, 20);
    const known = this.prepared.get(key);
    if (known) return known;
    const samples = toPlaybackRate(parseWav(await readFile(wavPath), wavPath), wavPath);
    const padded = new Int16Array(samples.length + (PLAYBACK_RATE * PADDING_MS) / 1000);
    padded.set(samples);
    const prompt = {
      file: join(this.dir, `prompt-${key}.wav`),
      durationMs: Math.round((samples.length * 1000) / PLAYBACK_RATE),
    };
    await writeFile(prompt.file, encodeWav(padded), { mode: 0o600 });
    this.prepared.set(key, prompt);
    return prompt;
  }
}
