import { open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from './wav.ts';

/**
 * Voice notes over SIP. baresip 1.0 has no "record this call" command, but its sndfile module
 * writes each call's received audio (8 kHz, 16-bit mono) to `dump-<time>-dec.wav` as it arrives.
 * A recording is the stretch of that file between the start and the end of `record()`.
 */
export class CallRecorder {
  constructor(private readonly dir: string) {}

  /** The growing file of the current call's received audio, and how far it has got. */
  async mark(): Promise<{ file: string; offset: number }> {
    // Unlistable is the same as empty here: the error thrown below names the directory and the likely cause.
    const names = (await readdir(this.dir).catch(() => [] as string[]))
      .filter((name) => name.endsWith('-dec.wav'))
      .sort();
    const newest = names.at(-1);
    if (!newest)
      throw new Error(`no call audio is being captured in ${this.dir} (is baresip's sndfile module loaded?)`);
    const file = join(this.dir, newest);
    return { file, offset: Math.max(44, (await stat(file)).size) };
  }

  /** Writes the audio received since `from` to `path` as a WAV; returns how many samples it holds. */
  async cut(from: { file: string; offset: number }, path: string): Promise<number> {
    const handle = await open(from.file, 'r');
    try {
      const end = (await handle.stat()).size;
      const length = Math.max(0, end - from.offset) & ~1;
      const bytes = Buffer.alloc(length);
      if (length > 0) await handle.read(bytes, 0, length, from.offset);
      const samples = new Int16Array(length / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(2 * i);
      await writeFile(path, encodeWav(samples), { mode: 0o600 });
      return samples.length;
    } finally {
      await handle.close();
    }
  }

  /** A call's audio must not outlive the call. */
  async clear(): Promise<void> {
    // No directory means no audio to remove; any other failure must reach the caller, which logs it.
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    await Promise.all(
      names.filter((name) => name.startsWith('dump-')).map((name) => rm(join(this.dir, name), { force: true })),
    );
  }
}
