/**
 * Netstring framing (`<length>:<payload>,`) as baresip's ctrl_tcp speaks it: one JSON object per
 * frame, length in bytes. The decoder is incremental because TCP delivers frames in arbitrary pieces.
 */

/** ctrl_tcp answers are menu text; anything far larger is a broken stream, not a message. */
export const MAX_FRAME_BYTES = 1 << 20;

export class NetstringError extends Error {}

export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`, 'ascii'), body, Buffer.from(',', 'ascii')]);
}

export class NetstringDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** Adds received bytes; returns every frame completed by them. Throws NetstringError on a malformed stream. */
  push(chunk: Buffer): string[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: string[] = [];
    for (;;) {
      const colon = this.pending.indexOf(0x3a);
      if (colon < 0) {
        if (this.pending.length > 10)
          throw new NetstringError(
            `expected "<length>:" at the start of a frame, ` +
              `got ${JSON.stringify(this.pending.subarray(0, 16).toString('latin1'))}`,
          );
        break;
      }
      const lengthText = this.pending.subarray(0, colon).toString('latin1');
      if (!/^\d{1,10}$/.test(lengthText))
        throw new NetstringError(`expected a decimal frame length, got ${JSON.stringify(lengthText.slice(0, 16))}`);
      const length = Number(lengthText);
      if (length > MAX_FRAME_BYTES)
        throw new NetstringError(`frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      const end = colon + 1 + length;
      if (this.pending.length < end + 1) break;
      if (this.pending[end] !== 0x2c) throw new NetstringError(`expected "," after a ${length}-byte frame`);
      frames.push(this.pending.subarray(colon + 1, end).toString('utf8'));
      this.pending = this.pending.subarray(end + 1);
    }
    return frames;
  }
}
