import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex, type Logger, type LogMatch } from '../../shared/index.ts';
import type { LogFileConfig } from '../config.ts';
import { InPlaceFile } from '../core/in-place-file.ts';
import type { AgentMetrics } from '../core/metrics.ts';
import type { EventBody } from '../core/publisher.ts';
import { FileFollower, type FilePosition, type LogLine } from './follower.ts';
import { FloodLimiter, RuleSet } from './rules.ts';

type LogBody = Omit<LogMatch, 'v' | 'id' | 'host' | 'ts' | 'seq'>;

/**
 * One followed file: lines → rules → flood limit → events. The file position is saved only after
 * the batch's events are acknowledged or spooled, so a restart (or crash) neither repeats nor skips.
 */
export class LogSource {
  private readonly follower: FileFollower;
  private readonly rules: RuleSet;
  private readonly limiter: FloodLimiter;
  /** Saved in place after every batch (in-place-file.ts). */
  private readonly checkpoint: InPlaceFile;
  /** Per rule: matches suppressed since the last published one, and the latest of them. */
  private readonly held = new Map<string, { count: number; last: LogBody; position: FilePosition }>();
  private flushTimer: NodeJS.Timeout | null = null;
  private lastError = '';
  /** Not yet in the Prometheus counters: added when they are read (metrics.ts, logCounts). Per rule from the start. */
  private readonly counts = {
    lines: 0,
    truncated: 0,
    matches: new Map<string, number>(),
    suppressed: new Map<string, number>(),
  };

  constructor(
    private readonly config: LogFileConfig,
    private readonly options: {
      host: string;
      stateDir: string;
      submit: (body: EventBody, options?: { id?: string }) => Promise<void>;
      metrics: AgentMetrics;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.rules = new RuleSet(config.rules, `logs (${config.path}).rules`);
    this.limiter = new FloodLimiter(config.rate_limit.per_second, config.rate_limit.burst, options.now);
    const dir = join(options.stateDir, 'logs');
    mkdirSync(dir, { recursive: true });
    // Wide enough for any position of this file: the largest numbers and the longest head.
    const widest = { path: config.path, dev: 2 ** 53, ino: 2 ** 53, pos: 2 ** 53, head: 'f'.repeat(128) };
    this.checkpoint = new InPlaceFile(
      join(dir, `${sha256Hex(config.path).slice(0, 16)}.json`),
      JSON.stringify(widest).length,
    );
    const saved = this.loadCheckpoint();
    for (const rule of config.rules) {
      this.counts.matches.set(rule.name, 0);
      this.counts.suppressed.set(rule.name, 0);
    }
    options.metrics.logCounts.add(() => this.flushCounts());
    this.follower = new FileFollower(config.path, {
      pollMs: config.poll_interval,
      // Bytes, not characters: a UTF-8 line is cut at most a few bytes early, never grows past the schema cap.
      maxLineBytes: config.max_line_chars,
      startAt: config.start_at,
      ...(saved ? { saved } : {}),
      onLines: (lines, position) => this.handle(lines, position),
      onRotation: (kind, detail) => {
        options.metrics.logRotations.inc({ file: config.path, type: kind });
        options.logger.info({ file: config.path, rotation: kind }, detail);
      },
      onError: (err) => {
        // Polled every few hundred ms: say it once per distinct problem, not four times a second.
        if (err.message === this.lastError) return;
        this.lastError = err.message;
        options.logger.warn({ file: config.path, err }, 'cannot read log file; will keep trying');
      },
    });
  }

  /** Resolves once the file is open (or known to be missing), so "started" means "following". */
  async start(): Promise<void> {
    this.follower.start();
    await this.follower.trigger();
    // Remember where we began even if nothing matches soon, so lines written while stopped are not skipped.
    this.saveCurrentPosition();
    if (!this.follower.position)
      this.options.logger.info(
        { file: this.config.path },
        'log file does not exist yet; it will be followed once it appears',
      );
    this.flushTimer = setInterval(() => void this.flushSuppressed(), 1000);
  }

  /** Reads whatever is new right now (tests and shutdown use it; normally the poll does). */
  poll(): Promise<void> {
    return this.follower.trigger();
  }

  async stop(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    // After the last batch's events are durable, not before: a poll may be in flight.
    await this.follower.stop();
    this.saveCurrentPosition();
  }

  private flushCounts(): void {
    const { metrics } = this.options;
    const file = this.config.path;
    const { counts } = this;
    if (counts.lines > 0) metrics.logLines.inc({ file }, counts.lines);
    if (counts.truncated > 0) metrics.logTruncated.inc({ file }, counts.truncated);
    for (const [rule, n] of counts.matches) if (n > 0) metrics.logMatches.inc({ file, rule }, n);
    for (const [rule, n] of counts.suppressed) if (n > 0) metrics.logSuppressed.inc({ file, rule }, n);
    counts.lines = 0;
    counts.truncated = 0;
    for (const rule of counts.matches.keys()) counts.matches.set(rule, 0);
    for (const rule of counts.suppressed.keys()) counts.suppressed.set(rule, 0);
  }

  private saveCurrentPosition(): void {
    const position = this.follower.position;
    if (position) this.saveCheckpoint(position);
  }

  private async handle(lines: LogLine[], position: FilePosition): Promise<void> {
    const file = this.config.path;
    const { counts } = this;
    counts.lines += lines.length;
    const pending: Promise<void>[] = [];
    for (const line of lines) {
      if (line.truncated) counts.truncated++;
      const text =
        line.text.length > this.config.max_line_chars ? line.text.slice(0, this.config.max_line_chars) : line.text;
      for (const match of this.rules.match(text)) {
        counts.matches.set(match.rule, (counts.matches.get(match.rule) ?? 0) + 1);
        const body: LogBody = {
          kind: 'log',
          file,
          rule: match.rule,
          severity: match.severity,
          line: text,
          truncated: line.truncated || text.length < line.text.length,
          inode: line.ino,
          offset: line.offset,
          suppressed: 0,
          ...(match.labels ? { labels: match.labels } : {}),
        };
        if (!this.limiter.allow(match.rule)) {
          counts.suppressed.set(match.rule, (counts.suppressed.get(match.rule) ?? 0) + 1);
          const held = this.held.get(match.rule);
          this.held.set(match.rule, { count: (held?.count ?? 0) + 1, last: body, position });
          continue;
        }
        body.suppressed = this.takeSuppressed(match.rule);
        pending.push(this.options.submit(body, { id: this.matchId(position, body) }));
      }
    }
    await Promise.all(pending);
    this.saveCheckpoint(position);
  }

  /**
   * The same line of the same file matched by the same rule always gets the same id. After a crash
   * (the position saved a batch behind) the re-read lines are re-sent with their old ids and the
   * stream's duplicate window drops them: exactly once even across kill -9. The line text is part of
   * it, so a reused inode or a rewritten file collides only on the very same text at the same offset.
   */
  private matchId(position: FilePosition, body: LogBody): string {
    const key = [this.options.host, position.dev, body.inode, body.offset, body.rule, body.line].join('\0');
    return `log-${sha256Hex(key).slice(0, 40)}`;
  }

  private takeSuppressed(rule: string): number {
    const held = this.held.get(rule);
    this.held.delete(rule);
    return held?.count ?? 0;
  }

  /**
   * After a flood stops nothing else may match for hours; publish the last suppressed line then, carrying
   * how many were dropped before it, so the count is never stuck in memory.
   */
  private async flushSuppressed(): Promise<void> {
    for (const [rule, held] of [...this.held]) {
      if (!this.limiter.allow(rule)) continue;
      this.held.delete(rule);
      await this.options.submit(
        { ...held.last, suppressed: held.count - 1 },
        { id: this.matchId(held.position, held.last) },
      );
    }
  }

  private loadCheckpoint(): FilePosition | undefined {
    try {
      const saved = JSON.parse(readFileSync(this.checkpoint.path, 'utf8')) as FilePosition & { path?: string };
      if (saved.path !== this.config.path || typeof saved.ino !== 'number' || typeof saved.pos !== 'number')
        return undefined;
      return { dev: saved.dev, ino: saved.ino, pos: saved.pos, head: saved.head ?? '' };
    } catch (err) {
      // No checkpoint yet is the normal first start; an unreadable or corrupt one changes where reading starts.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        const file = this.config.path;
        this.options.logger.warn({ file, err }, 'log position checkpoint unreadable; reading from start_at');
      }
      return undefined;
    }
  }

  private saveCheckpoint(position: FilePosition): void {
    this.checkpoint.write(JSON.stringify({ path: this.config.path, ...position }));
  }
}
