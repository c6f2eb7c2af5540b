import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileFollower, type LogFileConfig } from '../../agent/index.ts';
import { createAgentMetrics } from '../../agent/core/metrics.ts';
import { LogSource } from '../../agent/logs/log-source.ts';
import { createLogger, createRegistry } from '../../shared/index.ts';
import { tempDir } from './helpers.ts';

/** Errors the log follower used to swallow: they must now reach the operator. */
describe('agent log files: errors are reported, not swallowed (real files)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    dir.remove();
  });

  it('a path that cannot exist (a file used as its directory) reaches onError instead of waiting forever', async () => {
    const notADirectory = join(dir.path, 'plain-file');
    writeFileSync(notADirectory, 'x\n');
    const errors: Error[] = [];
    const follower = new FileFollower(join(notADirectory, 'app.log'), {
      pollMs: 60_000,
      maxLineBytes: 1024,
      startAt: 'beginning',
      onLines: async () => {},
      onError: (err) => errors.push(err),
    });
    try {
      await follower.trigger();
    } finally {
      await follower.stop();
    }
    assert.deepEqual(
      errors.map((e) => (e as NodeJS.ErrnoException).code),
      ['ENOTDIR'],
    );
  });

  it('a corrupt position checkpoint is logged as a warning naming the file; a missing one is not', () => {
    const lines: string[] = [];
    const logger = createLogger('agent-test', { level: 'warn', destination: { write: (s: string) => lines.push(s) } });
    const path = join(dir.path, 'app.log');
    const config: LogFileConfig = {
      path,
      rules: [{ name: 'oops', pattern: 'oops', severity: 'warning', ignore_case: false }],
      start_at: 'end',
      max_line_chars: 1000,
      rate_limit: { per_second: 10, burst: 50 },
      poll_interval: 250,
    };
    const metrics = createAgentMetrics(createRegistry('agent'));
    const options = { host: 'h1', stateDir: dir.path, submit: async () => {}, metrics, logger };
    new LogSource(config, options);
    assert.deepEqual(lines, [], 'no checkpoint yet is the normal first start');

    // The same name LogSource derives from the followed path.
    const checkpoint = join(dir.path, 'logs', `${createHash('sha256').update(path).digest('hex').slice(0, 16)}.json`);
    mkdirSync(join(dir.path, 'logs'), { recursive: true });
    writeFileSync(checkpoint, '{"path": "/var/log/app.log", "ino": 12');
    new LogSource(config, options);
    assert.equal(lines.length, 1);
    const logged = JSON.parse(lines[0]!) as { level: string; file: string; err?: { message?: string }; msg: string };
    assert.equal(logged.level, 'warn');
    assert.equal(logged.file, path);
    assert.match(logged.msg, /checkpoint unreadable/);
    assert.match(logged.err?.message ?? '', /JSON/);
  });
});
