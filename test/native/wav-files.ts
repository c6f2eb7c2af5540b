import { readFileSync, writeFileSync } from 'node:fs';

/** Writes a PCM WAV of `ms` milliseconds (a quiet 440 Hz tone) with the given format, for prompts and bad inputs. */
export function writeWav(
  path: string,
  ms: number,
  format: { rate?: number; channels?: number; bits?: number; pcm?: boolean } = {},
): string {
  const rate = format.rate ?? 8000;
  const channels = format.channels ?? 1;
  const bits = format.bits ?? 16;
  const frames = Math.round((ms * rate) / 1000);
  const bytesPerFrame = (channels * bits) / 8;
  const data = Buffer.alloc(frames * bytesPerFrame);
  if (bits === 16) {
    for (let i = 0; i < frames * channels; i++)
      data.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(format.pcm === false ? 3 : 1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * bytesPerFrame, 28);
  header.writeUInt16LE(bytesPerFrame, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
  return path;
}

export interface WavHeader {
  format: number;
  channels: number;
  rate: number;
  bits: number;
  dataBytes: number;
  durationMs: number;
}

/** Reads a canonical 44-byte-header WAV as the line writes them. */
export function readWavHeader(path: string): WavHeader {
  const file = readFileSync(path);
  if (
    file.toString('ascii', 0, 4) !== 'RIFF' ||
    file.toString('ascii', 8, 16) !== 'WAVEfmt ' ||
    file.toString('ascii', 36, 40) !== 'data'
  ) {
    throw new Error(`${path} is not a canonical WAV`);
  }
  const dataBytes = file.readUInt32LE(40);
  if (dataBytes !== file.length - 44)
    throw new Error(`${path}: data size ${dataBytes} but ${file.length - 44} bytes follow the header`);
  const rate = file.readUInt32LE(24);
  const bits = file.readUInt16LE(34);
  const channels = file.readUInt16LE(22);
  return {
    format: file.readUInt16LE(20),
    channels,
    rate,
    bits,
    dataBytes,
    durationMs: (dataBytes / (channels * (bits / 8)) / rate) * 1000,
  };
}
