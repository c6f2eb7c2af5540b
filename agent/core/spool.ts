import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface SpooledEvent {
  subject: string;
  message: { id: string; seq: number };
}

interface Segment {
  file: string;
  bytes: number;
  events: number;
}

const SEGMENT_RE = /^seg-(\d{16})\.jsonl$/;

/**
 * Bounded on-disk FIFO for events that could not be published. Append-only segment files (JSON
 * lines) in seq order: appends go to the newest, the drain reads the oldest and deletes it when
 * done. When the total passes max_bytes the oldest segment is dropped whole (≤ 1/16 of the spool)
 * and its events are reported through onDrop. A restart re-sends at most the part of one segment
 * already published, with the same ids, which JetStream's duplicate window absorbs.
 */
export class DiskSpool {
  private segments: Segment[] = [];
  private head: { file: string; events: SpooledEvent[]; index: number } | null = null;
  private writing: Segment | null = null;
  private nextName = 0;
  readonly segmentBytes: number;
  corruptLines = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly onDrop: (events: number) => void = () => undefined,
  ) {
    this.segmentBytes = Math.max(4096, Math.min(4 * 1024 * 1024, Math.floor(maxBytes / 16)));
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)
      .filter((n) => SEGMENT_RE.test(n))
      .sort()) {
      const file = join(dir, name);
      const text = readFileSync(file, 'utf8');
      this.segments.push({
        file,
        bytes: statSync(file).size,
        events: text.split('\n').filter((l) => l.length > 0).length,
      });
      this.nextName = Math.max(this.nextName, Number(SEGMENT_RE.exec(name)![1]) + 1);
    }
  }

  /** Events waiting, including the unread rest of the segment being drained. */
  get depth(): number {
    const headRemaining = this.head ? this.head.events.length - this.head.index : 0;
    const rest = this.segments.filter((s) => s.file !== this.head?.file).reduce((sum, s) => sum + s.events, 0);
    return headRemaining + rest;
  }

  get bytes(): number {
    return this.segments.reduce((sum, s) => sum + s.bytes, 0);
  }

  /** Highest seq on disk, so a restarted agent never reuses one that is still waiting here. */
  maxSeq(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const lines = readFileSync(this.segments[i]!.file, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      for (let j = lines.length - 1; j >= 0; j--) {
        const event = parse(lines[j]!);
        if (event) return event.message.seq;
      }
    }
    return 0;
  }

  append(event: SpooledEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    if (!this.writing || this.writing.bytes >= this.segmentBytes) {
      this.writing = {
        file: join(this.dir, `seg-${String(this.nextName++).padStart(16, '0')}.jsonl`),
        bytes: 0,
        events: 0,
      };
      this.segments.push(this.writing);
    }
    appendFileSync(this.writing.file, line);
    this.writing.bytes += Buffer.byteLength(line);
    this.writing.events++;
    while (this.bytes > this.maxBytes && this.segments.length > 1) this.dropOldest();
  }

  peek(): SpooledEvent | undefined {
    for (;;) {
      if (this.head && this.head.index < this.head.events.length) return this.head.events[this.head.index];
      if (this.head) this.finishHead();
      const oldest = this.segments[0];
      if (!oldest) return undefined;
      // Never read a segment that is still being appended to: start a new one for writers.
      if (oldest === this.writing) this.writing = null;
      const events: SpooledEvent[] = [];
      for (const line of readFileSync(oldest.file, 'utf8').split('\n')) {
        if (line.length === 0) continue;
        const event = parse(line);
        if (event) events.push(event);
        else this.corruptLines++;
      }
      this.head = { file: oldest.file, events, index: 0 };
    }
  }

  /** The event from peek() was published. */
  shift(): void {
    if (this.head && this.head.index < this.head.events.length) this.head.index++;
    if (this.head && this.head.index >= this.head.events.length) this.finishHead();
  }

  private finishHead(): void {
    if (!this.head) return;
    const file = this.head.file;
    this.head = null;
    this.segments = this.segments.filter((s) => s.file !== file);
    unlinkQuietly(file);
  }

  private dropOldest(): void {
    const oldest = this.segments.shift()!;
    let dropped = oldest.events;
    if (this.head?.file === oldest.file) {
      dropped = this.head.events.length - this.head.index;
      this.head = null;
    }
    if (oldest === this.writing) this.writing = null;
    unlinkQuietly(oldest.file);
    this.onDrop(dropped);
  }
}

function parse(line: string): SpooledEvent | null {
  try {
    const event = JSON.parse(line) as SpooledEvent;
    return typeof event?.subject === 'string' &&
      typeof event.message?.id === 'string' &&
      typeof event.message.seq === 'number'
      ? event
      : null;
  } catch {
    // A line torn by a crash mid-write: skip it, count it.
    return null;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}
