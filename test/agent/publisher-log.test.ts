import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createAgentMetrics } from '../../agent/core/metrics.ts';
import { EventPublisher, type EventBody } from '../../agent/core/publisher.ts';
import { SequenceCounter } from '../../agent/core/sequence.ts';
import { DiskSpool } from '../../agent/index.ts';
import { createRegistry, LogMatch, silentLogger, Subjects } from '../../shared/index.ts';
import { tempDir } from './helpers.ts';

/**
 * Log matches are checked by the hand-written acceptor before zod: what goes out must be what zod returns, and what zod
 * refuses must still be dropped and counted. No NATS attached, so each accepted event lands in the (real) spool.
 */
describe('agent publisher: log matches checked as zod would', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    dir.remove();
  });

  const body = (extra: Record<string, unknown> = {}): EventBody =>
    ({
      kind: 'log',
      file: '/var/log/app.log',
      rule: 'fatal',
      severity: 'critical',
      line: 'FATAL out of widgets',
      truncated: false,
      inode: 12,
      offset: 340,
      suppressed: 0,
      ...extra,
    }) as EventBody;

  it('publishes what LogMatch.parse() returns, and drops and counts what it refuses', async () => {
    const registry = createRegistry('agent');
    const metrics = createAgentMetrics(registry);
    const spool = new DiskSpool(join(dir.path, 'spool'), 1024 * 1024);
    const sequence = new SequenceCounter(dir.path);
    const publisher = new EventPublisher({
      host: 'h1',
      subjects: new Subjects('t'),
      spool,
      sequence,
      publishTimeoutMs: 1000,
      metrics,
      logger: silentLogger(),
      now: () => 1_700_000_000_000,
    });
    const invalid = async (): Promise<number | undefined> =>
      (await metrics.invalidEvents.get()).values.find((v) => v.labels.kind === 'log')?.value;
    try {
      await publisher.submit(body({ labels: { trial: '7' } }), { id: 'log-1' });
      await publisher.submit(body(), { id: 'log-2' });
      const accepted = [spool.peek()!];
      spool.shift();
      accepted.push(spool.peek()!);
      const expected = (id: string, seq: number, extra: Record<string, unknown> = {}): LogMatch =>
        LogMatch.parse({ v: 1, id, host: 'h1', ts: 1_700_000_000_000, seq, epoch: sequence.epoch, ...body(extra) });
      // Key order too: the JSON on the wire is the same as before.
      assert.equal(
        JSON.stringify(accepted[0]!.message),
        JSON.stringify(expected('log-1', 1, { labels: { trial: '7' } })),
      );
      assert.equal(JSON.stringify(accepted[1]!.message), JSON.stringify(expected('log-2', 2)));
      assert.equal(accepted[0]!.subject, new Subjects('t').event('h1', 'log'));

      for (const bad of [{ labels: { __x: 'y' } }, { line: 'x'.repeat(5000) }, { offset: -1 }, { severity: 'fatal' }])
        await publisher.submit(body(bad), { id: 'log-bad' });
      assert.equal(await invalid(), 4);
      assert.equal(spool.depth, 1, 'nothing refused was spooled');
      assert.equal(sequence.current, 2, 'a refused event takes no seq');
    } finally {
      await publisher.stop();
    }
  });
});
