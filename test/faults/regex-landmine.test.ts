import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, Subjects } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { untilPolled } from '../helpers/wait.ts';
import { recordFault } from './common.ts';

const PREFIX = 'landmine';
const subjects = new Subjects(PREFIX);
const HOST = 'mine1';
/** 60 × "a" then "!": `^(a|aa)+$` backtracks through every split of the run (~fib(60) ways) before failing. */
const NEAR_MISS = `${'a'.repeat(60)}!`;
const MATCHING = 'aaaaaaaa';

describe('faults: a catastrophic-backtracking log rule against the real agent', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  let agent: OffhookProcess | undefined;

  before(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-regex-'));
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    if (agent) await killAndWait(agent.child, 'SIGTERM');
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('after the near-miss line the next matching line is published, heartbeats go on, /metrics answers', async () => {
    const log = join(dir, 'app.log');
    writeFileSync(log, '');
    agent = await startOffhook('agent', dir, 'agent', {
      host: HOST,
      nats: { servers: [server.url], prefix: PREFIX },
      state_dir: join(dir, 'state'),
      metrics_listen: '127.0.0.1:0',
      heartbeat_interval: '200ms',
      logs: [
        {
          path: log,
          start_at: 'beginning',
          poll_interval: '50ms',
          rules: [{ name: 'landmine', pattern: '^(a|aa)+$' }],
        },
      ],
    });

    const lines: string[] = [];
    nc.subscribe(subjects.event(HOST, 'log'), {
      callback: (_e, m) => void lines.push((m.json() as { line: string }).line),
    });
    let heartbeats = 0;
    nc.subscribe(subjects.heartbeat(HOST), { callback: () => void heartbeats++ });
    await nc.flush();

    appendFileSync(log, `${NEAR_MISS}\n${MATCHING}\n`);
    await untilPolled(() => lines.includes(MATCHING), 'the matching line after the near-miss to be published', 30_000);
    assert.ok(!lines.includes(NEAR_MISS), 'the near-miss line does not match ^(a|aa)+$');

    const beatsAfterMatch = heartbeats;
    await untilPolled(() => heartbeats >= beatsAfterMatch + 3, 'three more heartbeats', 15_000);
    const response = await fetch(agent.metricsUrl, { signal: AbortSignal.timeout(5_000) });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^offhook_agent_/m);
    assert.ok(agent.alive(), 'agent still running');

    recordFault({
      scenario: 'regex landmine',
      tried: 'log rule ^(a|aa)+$ fed a 61-character near-miss line, then a matching line',
      counts: { matching_lines_published: lines.filter((l) => l === MATCHING).length, heartbeats_seen: heartbeats },
      lost: lines.includes(MATCHING) ? 0 : 1,
    });
  });
});
