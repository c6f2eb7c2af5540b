import { fstatSync, readSync, watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { onLocalFileSystem } from './local-fs.ts';

/**
 * Why not the `tail` package (a project dependency): it tracks a byte cursor on the *path*, so it
 * loses lines written to the old file after a rename, skips what was written right after a
 * copytruncate, dies on ENOENT and ignores relative paths at rotation (measured: agent/README.md, Logs).
 * This follower keeps an open fd and tracks (dev, inode, position): after a rename it drains the
 * old file before switching, it notices truncation by size *and* by a changed file head (truncate
 * followed by fast writes), and it resumes from a saved position, even in a rotated-away file.
 */

export interface FilePosition {
  dev: number;
  ino: number;
  /** Byte offset after the last complete line handed out. */
  pos: number;
  /** Hex of the file's first bytes (≤ 64), to recognise a truncate + rewrite of the same inode. */
  head: string;
}

export interface LogLine {
  text: string;
  truncated: boolean;
  ino: number;
  /** Byte offset of the line's first byte. */
  offset: number;
}

export type RotationKind = 'rename' | 'truncate' | 'recovered';

export interface FollowerOptions {
  pollMs: number;
  maxLineBytes: number;
  startAt: 'end' | 'beginning';
  saved?: FilePosition;
  /** Awaited before reading on: the batch's position may be persisted once it resolves. */
  onLines(lines: LogLine[], position: FilePosition): Promise<void>;
  onRotation?(kind: RotationKind, detail: string): void;
  onError?(err: Error): void;
}

const READ_CHUNK = 64 * 1024;
const BATCH_BYTES = 1024 * 1024;
const HEAD_BYTES = 64;

interface OpenFile {
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Next byte to read. */
  readPos: number;
  /** Start of the pending partial line (= the position that is safe to persist). */
  lineStart: number;
  partial: Buffer[];
  partialBytes: number;
  /** The pending line is longer than the cap: its text is kept, the rest skipped until the newline. */
  overflow: boolean;
  head: string;
  quietPolls: number;
  /** On a local file system (local-fs.ts): each wake-up's first look at the file is made synchronously. */
  local: boolean;
}

/** A file not there (yet, or rotated away) is normal; any other stat error (EACCES...) reaches onError. */
function nullIfMissing(err: NodeJS.ErrnoException): null {
  if (err.code === 'ENOENT') return null;
  throw err;
}

export class FileFollower {
  private current: OpenFile | null = null;
  private timer: NodeJS.Timeout | null = null;
  private watcher: FSWatcher | null = null;
  private polling: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private firstOpen = true;
  /**
   * Read into by one poll at a time (polls never overlap) and never handed out: lines are decoded or copied from it.
   * Zeroing a fresh 64 KiB at every wake-up cost ~0.06 ms of a line's way to NATS.
   */
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);
  private readonly headScratch = Buffer.allocUnsafe(HEAD_BYTES);
  /** `headHex` decoded: the file's head changes at most a few times per file, polls happen per line. */
  private headHex = '';
  private headBytes = Buffer.alloc(0);

  constructor(
    readonly path: string,
    private readonly options: FollowerOptions,
  ) {}

  start(): void {
    try {
      // A hint only: the poll below is the source of truth (inotify misses events on NFS, and renames).
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (!name || name === basename(this.path) || name.startsWith(basename(this.path))) this.trigger();
      });
      this.watcher.on('error', () => this.watcher?.close()); // the poll carries on without the hint
    } catch {
      // No inotify here (a missing directory, NFS, the watch limit reached): polling alone still follows the file.
      this.watcher = null;
    }
    this.trigger();
  }

  /** Polls now (coalesced with a poll in progress). Resolves when that poll is done. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.polling) {
      this.again = true;
      return this.polling;
    }
    this.polling = (async () => {
      do {
        this.again = false;
        try {
          await this.poll();
        } catch (err) {
          this.options.onError?.(err as Error);
        }
      } while (this.again && !this.stopped);
      this.polling = null;
      // The next poll pollMs after this one. One timer, re-armed: clearing it left its duration's timer list empty,
      // so each wake-up removed that list from Node's timer queue and the next setTimeout put it back (~0.03 ms).
      // Should it fire during a poll, that poll just runs once more.
      if (this.stopped) return;
      if (this.timer) this.timer.refresh();
      else this.timer = setTimeout(() => void this.trigger(), this.options.pollMs);
    })();
    return this.polling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.watcher?.close();
    await this.polling;
    // `current` stays so `position` still tells where reading stopped.
    // A read-only fd: a failed close loses no data, and stop() must not fail over it.
    await this.current?.handle.close().catch(() => undefined);
  }

  get position(): FilePosition | null {
    const c = this.current;
    return c ? { dev: c.dev, ino: c.ino, pos: c.lineStart, head: c.head } : null;
  }

  private async poll(): Promise<void> {
    if (!this.current && !(await this.openInitial())) return;
    const file = this.current!;
    const { buffer } = this;
    const { size, headMatches, bytesRead } = await this.look(file, buffer);
    let first: number | undefined = bytesRead;
    if (size < file.readPos || (size > file.readPos && !headMatches)) {
      first = undefined;
      this.options.onRotation?.(
        'truncate',
        `${this.path} was truncated at ${file.readPos} (now ${size} bytes); reading from the start`,
      );
      this.reset(file, 0);
      file.head = '';
    }
    const gained = await this.readToEnd(file, first);
    file.quietPolls = gained > 0 ? 0 : file.quietPolls + 1;

    // Nothing on the path yet, mid-rotation: keep reading the open file; the next poll looks again.
    const onPath = await stat(this.path).catch(nullIfMissing);
    if (!onPath || (onPath.ino === file.ino && onPath.dev === file.dev)) return;
    // Renamed away. The writer may still append to the old file until it reopens: switch once the old
    // file has been quiet for a poll and the new one has data (or the old one stayed quiet for a while).
    if (file.quietPolls < 1 || (onPath.size === 0 && file.quietPolls < 8)) return;
    await this.flushPartial(file);
    await file.handle.close().catch(() => undefined); // read-only fd: a failed close loses nothing
    this.options.onRotation?.('rename', `${this.path} was rotated (inode ${file.ino} → ${onPath.ino})`);
    this.current = await this.openAt(this.path, 0);
    if (this.current) await this.readToEnd(this.current);
  }

  /** First open: resume from the saved position (possibly in the rotated-away file), else start_at. */
  private async openInitial(): Promise<boolean> {
    const saved = this.firstOpen ? this.options.saved : undefined;
    const onPath = await stat(this.path).catch(nullIfMissing);
    if (saved) {
      if (onPath && onPath.ino === saved.ino && onPath.dev === saved.dev) {
        this.firstOpen = false;
        this.current = await this.openAt(this.path, saved.pos, saved.head);
        return this.current !== null;
      }
      const rotated = await this.findByInode(saved);
      if (rotated) {
        this.firstOpen = false;
        this.options.onRotation?.(
          'recovered',
          `${this.path} was rotated while the agent was stopped; finishing ${rotated} first`,
        );
        this.current = await this.openAt(rotated, saved.pos, saved.head);
        return this.current !== null;
      }
      if (!onPath) return false;
      this.firstOpen = false;
      // The saved file is gone: everything in the new one is unread.
      this.current = await this.openAt(this.path, 0);
      return this.current !== null;
    }
    if (!onPath) return false;
    const startAtEnd = this.firstOpen && this.options.startAt === 'end';
    this.firstOpen = false;
    this.current = await this.openAt(this.path, startAtEnd ? onPath.size : 0);
    return this.current !== null;
  }

  /** logrotate renames to <name>.1, <name>-20240101, ...: look for the saved inode next to the file. */
  private async findByInode(saved: FilePosition): Promise<string | null> {
    const dir = dirname(this.path);
    const base = basename(this.path);
    // A directory or file we cannot list or stat just cannot hold the saved inode: reading resumes on the path.
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!name.startsWith(base) || name === base || name.endsWith('.gz')) continue;
      const st = await stat(join(dir, name)).catch(() => null);
      if (st && st.ino === saved.ino && st.dev === saved.dev) return join(dir, name);
    }
    return null;
  }

  private async openAt(path: string, pos: number, head = ''): Promise<OpenFile | null> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const [st, local] = await Promise.all([handle.stat(), onLocalFileSystem(path)]);
    const file: OpenFile = {
      handle,
      dev: st.dev,
      ino: st.ino,
      readPos: 0,
      lineStart: 0,
      partial: [],
      partialBytes: 0,
      overflow: false,
      head,
      quietPolls: 0,
      local,
    };
    if (pos > 0 && pos <= st.size && (await this.headStillMatches(file))) this.reset(file, pos);
    else if (pos > 0) {
      this.options.onRotation?.(
        'truncate',
        `${path} is shorter than the saved position or was rewritten; reading from the start`,
      );
      file.head = '';
    }
    if (!file.head) await this.captureHead(file);
    return file;
  }

  /**
   * The file's size, whether its head is unchanged, and what follows the position (thrown away by the caller if the
   * file turns out truncated or rewritten). On a local file system synchronously: a thread-pool round trip was a
   * third of a line's way to NATS on a busy box (bench e2e-log). Else side by side: three round trips become one.
   */
  private async look(
    file: OpenFile,
    buffer: Buffer,
  ): Promise<{ size: number; headMatches: boolean; bytesRead: number }> {
    const { fd } = file.handle;
    if (file.local) {
      const bytesRead = readSync(fd, buffer, 0, READ_CHUNK, file.readPos);
      const headMatches = !file.head || this.headMatchesSync(fd, file);
      // Bytes past the position already say the file is not shorter: its size is asked for only when it could be (or
      // for the truncation message). That fstat and decoding the head per line were ~0.06 ms of an idle agent's way to
      // NATS (bench/agent-log-stages.ts).
      const size = bytesRead > 0 && headMatches ? file.readPos + bytesRead : fstatSync(fd).size;
      return { size, headMatches, bytesRead };
    }
    const [{ size }, headMatches, { bytesRead }] = await Promise.all([
      file.handle.stat(),
      this.headStillMatches(file),
      file.handle.read(buffer, 0, READ_CHUNK, file.readPos),
    ]);
    return { size, headMatches, bytesRead };
  }

  /** The file's head as bytes, decoded once per head. */
  private expectedHead(file: OpenFile): Buffer {
    if (this.headHex !== file.head) {
      this.headHex = file.head;
      this.headBytes = Buffer.from(file.head, 'hex');
    }
    return this.headBytes;
  }

  /** headStillMatches() for a local file, read into a buffer kept for it. */
  private headMatchesSync(fd: number, file: OpenFile): boolean {
    const expected = this.expectedHead(file);
    const actual = this.headScratch.subarray(0, expected.length);
    return readSync(fd, actual, 0, expected.length, 0) === expected.length && actual.equals(expected);
  }

  private reset(file: OpenFile, pos: number): void {
    file.readPos = pos;
    file.lineStart = pos;
    file.partial = [];
    file.partialBytes = 0;
    file.overflow = false;
  }

  private async headStillMatches(file: OpenFile): Promise<boolean> {
    if (!file.head) return true;
    const expected = this.expectedHead(file);
    const actual = Buffer.alloc(expected.length);
    const { bytesRead } = await file.handle.read(actual, 0, expected.length, 0);
    return bytesRead === expected.length && actual.equals(expected);
  }

  /**
   * Reads to EOF in batches, handing out complete lines; returns the bytes read. `first`: that many bytes at the
   * position are already in the buffer.
   */
  private async readToEnd(file: OpenFile, first?: number): Promise<number> {
    const { buffer } = this;
    let total = 0;
    let readAhead = first;
    for (;;) {
      const lines: LogLine[] = [];
      let batchBytes = 0;
      while (batchBytes < BATCH_BYTES) {
        const bytesRead = readAhead ?? (await file.handle.read(buffer, 0, READ_CHUNK, file.readPos)).bytesRead;
        readAhead = undefined;
        if (bytesRead === 0) break;
        if (file.head.length < HEAD_BYTES * 2 && file.readPos < HEAD_BYTES) await this.captureHead(file);
        this.split(file, buffer.subarray(0, bytesRead), lines);
        file.readPos += bytesRead;
        batchBytes += bytesRead;
        // A short read is the end of the file (a regular file): what is appended later wakes the next poll, so the
        // lines go out now rather than after one more read.
        if (bytesRead < READ_CHUNK) break;
      }
      total += batchBytes;
      if (lines.length > 0)
        await this.options.onLines(lines, { dev: file.dev, ino: file.ino, pos: file.lineStart, head: file.head });
      if (batchBytes < BATCH_BYTES || this.stopped) return total;
    }
  }

  private async captureHead(file: OpenFile): Promise<void> {
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await file.handle.read(head, 0, HEAD_BYTES, 0);
    file.head = head.subarray(0, bytesRead).toString('hex');
  }

  private split(file: OpenFile, chunk: Buffer, out: LogLine[]): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl >= 0 && file.partialBytes === 0 && !file.overflow && nl - start <= this.options.maxLineBytes) {
        // Fast path (nearly every line): decode straight from the read buffer, no copies.
        const end = nl > start && chunk[nl - 1] === 0x0d ? nl - 1 : nl;
        out.push({ text: chunk.toString('utf8', start, end), truncated: false, ino: file.ino, offset: file.lineStart });
        file.lineStart = file.readPos + nl + 1;
        start = nl + 1;
        continue;
      }
      const end = nl < 0 ? chunk.length : nl;
      this.appendPartial(file, chunk.subarray(start, end));
      if (nl < 0) return;
      out.push(this.takeLine(file, file.readPos + nl + 1));
      start = nl + 1;
    }
  }

  private appendPartial(file: OpenFile, piece: Buffer): void {
    const room = this.options.maxLineBytes - file.partialBytes;
    if (piece.length > room) file.overflow = true;
    const kept = piece.subarray(0, Math.max(0, room));
    if (kept.length > 0) {
      file.partial.push(Buffer.from(kept));
      file.partialBytes += kept.length;
    }
  }

  private takeLine(file: OpenFile, nextLineStart: number): LogLine {
    const text = Buffer.concat(file.partial).toString('utf8').replace(/\r$/, '');
    const line: LogLine = { text, truncated: file.overflow, ino: file.ino, offset: file.lineStart };
    file.partial = [];
    file.partialBytes = 0;
    file.overflow = false;
    file.lineStart = nextLineStart;
    return line;
  }

  /** The last line of a rotated-away file never gets its newline: hand it out as it is. */
  private async flushPartial(file: OpenFile): Promise<void> {
    if (file.partialBytes === 0 && !file.overflow) return;
    const line = this.takeLine(file, file.readPos);
    await this.options.onLines([line], { dev: file.dev, ino: file.ino, pos: file.lineStart, head: file.head });
  }
}
