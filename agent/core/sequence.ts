import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EPOCH_RE } from '../../shared/index.ts';
import { InPlaceFile } from './in-place-file.ts';

/**
 * The per-host event sequence and the epoch it belongs to. Persisted in the state dir so a restarted
 * agent continues where it stopped and the collector never sees seq go backwards within an epoch.
 * Writes are coalesced to one per event-loop turn; the spool's highest seq is taken into account at
 * start for the events still queued there. A state dir without an `epoch` file (new, wiped, or from an
 * agent before epochs) starts a new epoch at seq 1: the collector accepts a new epoch only from a low
 * seq, and spooled events keep the epoch they were numbered in.
 */
export class SequenceCounter {
  private value: number;
  private dirty = false;
  /** Saved in place after every event (in-place-file.ts); the widest safe integer has 16 digits. */
  private readonly file: InPlaceFile;
  readonly epoch: string;

  constructor(stateDir: string, atLeast = 0) {
    this.file = new InPlaceFile(join(stateDir, 'sequence'), 16);
    const epochFile = join(stateDir, 'epoch');
    const savedEpoch = readText(epochFile);
    if (savedEpoch !== null && EPOCH_RE.test(savedEpoch)) {
      this.epoch = savedEpoch;
      this.value = Math.max(Number(readText(this.file.path)) || 0, atLeast);
      return;
    }
    this.epoch = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    this.value = 0;
    // The epoch is on disk before any seq of it is used; if this fails the agent cannot keep its numbering.
    const tmp = `${epochFile}.tmp`;
    writeFileSync(tmp, `${this.epoch}\n`);
    renameSync(tmp, epochFile);
    this.dirty = true;
    this.flush();
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
    try {
      this.file.write(String(this.value));
      this.dirty = false;
    } catch {
      // Disk full or read-only: keep counting in memory and try again with the next event.
      setTimeout(() => this.flush(), 1000).unref();
    }
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    // Missing (first start) or unreadable: treated as no saved value.
    return null;
  }
}
