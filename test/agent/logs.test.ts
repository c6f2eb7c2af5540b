import assert from 'node:assert/strict';
import {
  appendFileSync,
  copyFileSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Agent, AgentConfig } from '../../agent/index.ts';
import { ensureStreams, silentLogger, type LogMatch } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { readEvents, subjects, tempDir, writeConfig } from './helpers.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import type { NatsConnection } from '@nats-io/transport-node';

describe('agent log rules (real nats-server, real files)', () => {
  const server = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();
  let hostCounter = 0;

  before(async () => {
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  function agentFor(host: string, logPath: string, log: Record<string, unknown> = {}): Agent {
    const config = AgentConfig.parse({
      host,
      nats: { servers: [server.url] },
      state_dir: join(dir.path, host, 'state'),
      heartbeat_interval: '1s',
      resources: { enabled: false },
      logs: [
        {
          path: logPath,
          start_at: 'beginning',
          poll_interval: '50ms',
          rules: [
            { name: 'error', pattern: 'ERROR (?<n>\\d+)' },
            { name: 'end', pattern: 'END-OF-TEST', severity: 'info' },
          ],
          ...log,
        },
      ],
    });
    return new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
  }

  /**
   * Reads this host's log matches from the stream until the END-OF-TEST sentinel; everything before it is what was
   * published.
   */
  async function matchesUntilSentinel(host: string): Promise<LogMatch[]> {
    const events = await readEvents(nc, host, (events) => events.some((e) => e.kind === 'log' && e.rule === 'end'));
    return events.filter((e): e is LogMatch => e.kind === 'log' && e.rule === 'error');
  }

  async function waitForLine(host: string, n: number): Promise<void> {
    await readEvents(nc, host, (events) => events.some((e) => e.kind === 'log' && e.labels?.n === String(n)));
  }

  const numbers = (matches: LogMatch[]): number[] => matches.map((m) => Number(m.labels!.n));
  const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  function setup(): { host: string; path: string } {
    const host = `logs${++hostCounter}`;
    return { host, path: join(dir.path, `${host}.log`) };
  }

  it('appended lines: every matching line once, in order, with inode and offset; others ignored', async () => {
    const { host, path } = setup();
    writeFileSync(path, 'ERROR 1 first\nnothing here\n');
    const agent = agentFor(host, path);
    await agent.start();
    try {
      for (let i = 2; i <= 20; i++) appendFileSync(path, `line ${i}: ERROR ${i} something\nnoise ${i}\n`);
      appendFileSync(path, 'partial ERROR 21 wri');
      appendFileSync(path, 'tten in two steps\nEND-OF-TEST\n');
      const matches = await matchesUntilSentinel(host);
      assert.deepEqual(numbers(matches), range(1, 21));
      assert.equal(matches[0]!.offset, 0);
      assert.equal(matches[0]!.line, 'ERROR 1 first');
      assert.equal(matches[20]!.line, 'partial ERROR 21 written in two steps');
      assert.ok(matches.every((m, i) => i === 0 || m.seq > matches[i - 1]!.seq));
    } finally {
      await agent.stop();
    }
  });

  it('rename rotation: lines the writer still appends to the old file are read before the new file', async () => {
    const { host, path } = setup();
    writeFileSync(path, '');
    const agent = agentFor(host, path);
    await agent.start();
    try {
      const fd = openSync(path, 'a');
      for (let i = 1; i <= 5; i++) writeSync(fd, `ERROR ${i}\n`);
      renameSync(path, `${path}.1`);
      // logrotate's "create": a new empty file appears, the daemon keeps writing to its old fd for a while.
      writeFileSync(path, '');
      for (let i = 6; i <= 8; i++) writeSync(fd, `ERROR ${i}\n`);
      closeSync(fd);
      for (let i = 9; i <= 12; i++) appendFileSync(path, `ERROR ${i}\n`);
      appendFileSync(path, 'END-OF-TEST\n');
      assert.deepEqual(numbers(await matchesUntilSentinel(host)), range(1, 12));
    } finally {
      await agent.stop();
    }
  });

  it('copytruncate: truncation followed at once by new writes is noticed; nothing repeated', async () => {
    const { host, path } = setup();
    writeFileSync(path, '');
    const agent = agentFor(host, path);
    await agent.start();
    try {
      for (let i = 1; i <= 6; i++) appendFileSync(path, `2024-01-01T00:00:0${i} ERROR ${i} before rotation\n`);
      await waitForLine(host, 6);
      copyFileSync(path, `${path}.1`);
      truncateSync(path, 0);
      // Written in the same tick as the truncate: the file is already longer than the old position.
      for (let i = 7; i <= 40; i++) appendFileSync(path, `2024-01-02T00:00:00 after rotation ERROR ${i}\n`);
      appendFileSync(path, 'END-OF-TEST\n');
      assert.deepEqual(numbers(await matchesUntilSentinel(host)), range(1, 40));
      assert.match(
        await agent.registry.getSingleMetricAsString('offhook_agent_log_rotations_total'),
        /type="truncate"[^\n]* 1\n?/,
      );
    } finally {
      await agent.stop();
    }
  });

  it('restart mid-file, with a rotation while stopped: no line repeated, none skipped', async () => {
    const { host, path } = setup();
    writeFileSync(path, '');
    let agent = agentFor(host, path);
    await agent.start();
    for (let i = 1; i <= 5; i++) appendFileSync(path, `ERROR ${i}\n`);
    await waitForLine(host, 5);
    await agent.stop();
    for (let i = 6; i <= 8; i++) appendFileSync(path, `ERROR ${i} written while the agent was down\n`);
    renameSync(path, `${path}.1`);
    writeFileSync(path, 'ERROR 9 in the new file\n');
    agent = agentFor(host, path);
    await agent.start();
    try {
      appendFileSync(path, 'ERROR 10\nEND-OF-TEST\n');
      const matches = await matchesUntilSentinel(host);
      assert.deepEqual(numbers(matches), range(1, 10));
      assert.ok(
        matches.every((m, i) => i === 0 || m.seq > matches[i - 1]!.seq),
        'seq keeps increasing across the restart',
      );
    } finally {
      await agent.stop();
    }
  });

  it('a file that does not exist yet, and a rename whose new file appears only later, are both followed', async () => {
    const { host, path } = setup();
    const agent = agentFor(host, path);
    await agent.start();
    try {
      writeFileSync(path, 'ERROR 1 file created after the agent started\n');
      await waitForLine(host, 1);
      appendFileSync(path, 'ERROR 2\n');
      renameSync(path, `${path}.old`);
      appendFileSync(`${path}.old`, 'ERROR 3 late write to the renamed file\n');
      await waitForLine(host, 3);
      // No file at the path for a while (the tail package gives up here with ENOENT).
      writeFileSync(path, 'ERROR 4 in the file that finally appeared\nEND-OF-TEST\n');
      assert.deepEqual(numbers(await matchesUntilSentinel(host)), [1, 2, 3, 4]);
    } finally {
      await agent.stop();
    }
  });

  it('kill -9 before the position was saved: re-read lines keep their ids, so the stream holds each once', async () => {
    const { host, path } = setup();
    const stateDir = join(dir.path, host, 'state');
    const config = writeConfig(
      dir.path,
      {
        host,
        nats: { servers: [server.url] },
        state_dir: stateDir,
        metrics_listen: '127.0.0.1:0',
        resources: { enabled: false },
        logs: [
          {
            path,
            start_at: 'beginning',
            poll_interval: '50ms',
            rate_limit: { per_second: 1e6, burst: 1e6 },
            rules: [
              { name: 'error', pattern: 'ERROR (?<n>\\d+)' },
              { name: 'end', pattern: 'END-OF-TEST' },
            ],
          },
        ],
      },
      `${host}-agent.yaml`,
    );
    writeFileSync(path, `${Array.from({ length: 300 }, (_, i) => `ERROR ${i + 1} ${'y'.repeat(100)}`).join('\n')}\n`);
    const first = spawnTracked('node', ['offhook.mjs', 'agent', '--config', config]);
    await waitForOutput(first, /"msg":"agent started"/);
    await waitForLine(host, 300);
    await killAndWait(first, 'SIGKILL');
    // The crash window made wide: events acknowledged, position not yet saved (here: rewound to 0).
    const [checkpoint] = readdirSync(join(stateDir, 'logs')).filter((f) => f.endsWith('.json'));
    const saved = JSON.parse(readFileSync(join(stateDir, 'logs', checkpoint!), 'utf8')) as { pos: number };
    assert.ok(saved.pos > 0);
    writeFileSync(join(stateDir, 'logs', checkpoint!), JSON.stringify({ ...saved, pos: 0 }));
    const second = spawnTracked('node', ['offhook.mjs', 'agent', '--config', config]);
    try {
      await waitForOutput(second, /"msg":"agent started"/);
      appendFileSync(path, 'END-OF-TEST\n');
      assert.deepEqual(numbers(await matchesUntilSentinel(host)), range(1, 300));
    } finally {
      await killAndWait(second, 'SIGTERM');
    }
  });

  it('caps line length and limits a flood, publishing how much it suppressed', async () => {
    const { host, path } = setup();
    writeFileSync(path, `ERROR 0 ${'x'.repeat(10_000)}\n`);
    const agent = agentFor(host, path, { max_line_chars: 200, rate_limit: { per_second: 1, burst: 5 } });
    await agent.start();
    try {
      appendFileSync(
        path,
        `${Array.from({ length: 300 }, (_, i) => `ERROR ${i + 1} flood`).join('\n')}\nEND-OF-TEST\n`,
      );
      // The flood limit holds back the last suppressed match and publishes it (with the count) once a token is free.
      const events = await readEvents(nc, host, (evs) => {
        const logs = evs.filter((e): e is LogMatch => e.kind === 'log' && e.rule === 'error');
        return logs.reduce((sum, m) => sum + 1 + m.suppressed, 0) >= 301;
      });
      const logs = events.filter((e): e is LogMatch => e.kind === 'log' && e.rule === 'error');
      assert.equal(logs[0]!.truncated, true);
      assert.equal(logs[0]!.line.length, 200);
      assert.deepEqual(numbers(logs.slice(0, 5)), [0, 1, 2, 3, 4]);
      assert.equal(
        logs.reduce((sum, m) => sum + 1 + m.suppressed, 0),
        301,
        'published + suppressed = every match',
      );
      assert.ok(logs.length < 10, `flood limited to a handful of events, got ${logs.length}`);
      assert.equal(logs[logs.length - 1]!.labels!.n, '300', 'the held-back match is the latest one');
    } finally {
      await agent.stop();
    }
  });
});
