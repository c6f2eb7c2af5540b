import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The per-host event sequence. Persisted in the state dir so a restarted agent continues where it
 * stopped and the collector never sees seq go backwards. Writes are coalesced to one per event-loop
 * turn; the spool's highest seq is taken into account at start for the events still queued there.
 */
export class SequenceCounter {
  private value: number;
  private dirty = false;
  private readonly file: string;

  constructor(stateDir: string, atLeast = 0) {
    this.file = join(stateDir, 'sequence');
    let saved = 0;
    try {
      saved = Number(readFileSync(this.file, 'utf8').trim()) || 0;
    } catch {
      saved = 0;
    }
    this.value = Math.max(saved, atLeast);
  }

  get current(): number {
    return this.value;
  }

  next(): number {
    this.value++;
    if (!this.dirty) {
      this.dirty = true;
      setImmediate(() => this.flush());
    }
    return this.value;
  }

  flush(): void {
    if (!this.dirty) return;
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, `${this.value}\n`);
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch {
      // Disk full or read-only: keep counting in memory and try again with the next event.
      setTimeout(() => this.flush(), 1000).unref();
    }
  }
}
