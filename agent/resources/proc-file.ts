import { closeSync, openSync, readSync } from 'node:fs';

/**
 * One /proc file kept open and re-read from offset 0 into a buffer that is reused, for the fast tick (4 reads a
 * second each): no open/close and no fresh buffer per read. A read error reopens the file on the next call.
 */
export class ProcFile {
  private fd: number | null = null;
  private buffer: Buffer;

  /** `limit` bytes are enough when only the start matters (the aggregate "cpu" line of /proc/stat). */
  constructor(
    private readonly path: string,
    initialBytes = 4096,
    private readonly limit = Infinity,
  ) {
    this.buffer = Buffer.allocUnsafe(Math.min(initialBytes, limit));
  }

  /** The file's text (up to `limit` bytes); '' when it does not exist (no swap, a container without it). */
  read(): string {
    try {
      this.fd ??= openSync(this.path, 'r');
      for (;;) {
        const n = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
        if (n < this.buffer.length || this.buffer.length >= this.limit) return this.buffer.toString('latin1', 0, n);
        this.buffer = Buffer.allocUnsafe(Math.min(this.buffer.length * 2, this.limit));
      }
    } catch (err) {
      this.close();
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // Closing a /proc fd cannot lose data; a failure here only means it is already gone.
    }
    this.fd = null;
  }
}
