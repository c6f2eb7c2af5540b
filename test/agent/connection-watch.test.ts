import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { Agent, AgentConfig, CheckConfig, pluginFor } from '../../agent/index.ts';
import type { CheckOutcome } from '../../agent/checks/index.ts';
import { CheckScheduler, type ScheduledCheck } from '../../agent/core/scheduler.ts';
import { ensureStreams, ManualClock, silentLogger, type CheckResult } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { agentConfigProblems, readEvents, subjects, tempDir } from './helpers.ts';
import { selfSignedCertificate } from './probe-helpers.ts';

/** Hands each event to whoever waits for the next one (no polling, no sleeps). */
class Events<T> {
  private queue: T[] = [];
  private waiters: ((value: T) => void)[] = [];
  push(value: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(value);
    else this.queue.push(value);
  }
  next(): Promise<T> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  get pending(): number {
    return this.queue.length;
  }
}

async function listen(server: HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function kill(server: HttpServer): void {
  server.close();
  server.closeAllConnections();
}

/**
 * An http(s) check every hour on a clock that only the test moves: any run after the first one that is not the
 * test's doing was started by the connection watch.
 */
function watched(url: string, extra: Record<string, unknown> = {}, agentDefault = true) {
  const config = CheckConfig.parse({
    name: 'svc',
    kind: url.startsWith('https') ? 'https' : 'http',
    url,
    interval: '1h',
    timeout: '5s',
    ...extra,
  }) as unknown as ScheduledCheck['config'];
  const check: ScheduledCheck = { config, instance: pluginFor(config.kind)!.create(config) };
  const clock = new ManualClock();
  const outcomes = new Events<CheckOutcome>();
  const early = new Events<{ reason: string; skipped: boolean }>();
  const scheduler = new CheckScheduler([check], (_c, outcome) => outcomes.push(outcome), silentLogger(), {
    random: () => 0,
    clock,
    connectionWatch: agentDefault,
    onEarlyRun: (_c, reason, skipped) => early.push({ reason, skipped }),
  });
  return { scheduler, clock, outcomes, early };
}

describe('agent connection watch (http/https)', () => {
  const stops: (() => void)[] = [];
  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  /** Serves `server` on loopback and starts a watched check of it (its first run at once); both stop after the test. */
  async function startWatched(server: HttpServer, scheme = 'http', extra: Record<string, unknown> = {}) {
    const port = await listen(server);
    const bed = watched(`${scheme}://127.0.0.1:${port}/`, extra);
    stops.push(
      () => bed.scheduler.stop(),
      () => kill(server),
    );
    bed.scheduler.start();
    bed.clock.advance(0); // the first run (random 0: at once)
    return bed;
  }

  it('a server that goes down closes the held connection: the check runs at once, not an hour later', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'));
    const { outcomes, early } = await startWatched(server);
    assert.equal((await outcomes.next()).status, 'ok');
    kill(server);
    const down = await outcomes.next();
    assert.equal(down.status, 'critical');
    assert.match(down.message, /ECONNREFUSED/);
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: false });
  });

  it('watches the TLS socket of an https check the same way', async () => {
    const dir = tempDir();
    stops.push(() => dir.remove());
    const tls = selfSignedCertificate(dir.path, 365);
    const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (_req, res) => res.end('ok'));
    const { outcomes, early } = await startWatched(server as unknown as HttpServer, 'https', { insecure: true });
    const up = await outcomes.next();
    assert.equal(up.status, 'ok', up.message);
    assert.ok(up.metrics?.some((m) => m.name === 'probe_ssl_earliest_cert_expiry'));
    kill(server as unknown as HttpServer);
    assert.equal((await outcomes.next()).status, 'critical');
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: false });
  });

  it('a server that closes every idle connection at once costs at most one early run per half interval', async () => {
    // Keep-alive announced, then the connection is closed right after the response: a bad server, or an idle
    // timeout far shorter than the check's interval.
    const server = createHttpServer((req, res) => {
      res.on('finish', () => setImmediate(() => req.socket.end()));
      res.end('ok');
    });
    const { clock, outcomes, early } = await startWatched(server);
    assert.equal((await outcomes.next()).status, 'ok');
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: false });
    assert.equal((await outcomes.next()).status, 'ok', 'the early run finds the service up');
    // The early run's connection is closed too: skipped, the next run waits for its timer.
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: true });
    assert.equal(outcomes.pending, 0);
    // An interval later (54 min with random 0's -10 % jitter): the timer's run, and one early run again.
    clock.advance(54 * 60_000);
    assert.equal((await outcomes.next()).status, 'ok');
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: false });
    assert.equal((await outcomes.next()).status, 'ok');
    assert.deepEqual(await early.next(), { reason: 'connection_closed', skipped: true });
    assert.equal(outcomes.pending, 0);
  });

  it('a server that announces its idle timeout is not waited out: the agent closes first, nothing wakes', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'));
    server.keepAliveTimeout = 2000; // Keep-Alive: timeout=2: the agent lets the connection go after 1 s idle
    const closed = new Events<{ byClient: boolean }>();
    server.on('connection', (socket) => {
      let byClient = false;
      socket.once('end', () => (byClient = true));
      socket.once('close', () => closed.push({ byClient }));
    });
    const { outcomes, early } = await startWatched(server);
    assert.equal((await outcomes.next()).status, 'ok');
    assert.deepEqual(await closed.next(), { byClient: true }, 'the agent closed the idle connection, not the server');
    assert.equal(early.pending, 0);
    assert.equal(outcomes.pending, 0);
  });

  it('off (per check over the agent default, or by the agent default): the request asks to close', async () => {
    const asked: (string | undefined)[] = [];
    const server = createHttpServer((req, res) => {
      asked.push(req.headers.connection);
      res.end('ok');
    });
    const port = await listen(server);
    stops.push(() => kill(server));
    for (const [extra, agentDefault] of [
      [{ connection_watch: false }, true],
      [{}, false],
      [{ connection_watch: true }, false],
    ] as const) {
      const { scheduler, clock, outcomes } = watched(`http://127.0.0.1:${port}/`, extra, agentDefault);
      stops.push(() => scheduler.stop());
      scheduler.start();
      clock.advance(0);
      assert.equal((await outcomes.next()).status, 'ok');
      scheduler.stop();
    }
    assert.deepEqual(asked, ['close', 'close', 'keep-alive']);
  });

  it('config: connection_watch is a boolean, top level or per http(s) check; other kinds name it unknown', () => {
    assert.deepEqual(agentConfigProblems('connection_watch: sometimes\n'), [
      'connection_watch: expected boolean, got "sometimes"',
    ]);
    assert.deepEqual(
      agentConfigProblems('checks:\n  - { name: w, kind: http, url: "http://x/", connection_watch: 1 }\n'),
      ['checks[0].connection_watch: expected boolean, got 1'],
    );
    assert.match(
      agentConfigProblems('checks:\n  - { name: t, kind: tcp, port: 22, connection_watch: true }\n')[0]!,
      /^checks\[0\]: unknown field "connection_watch"/,
    );
    assert.deepEqual(agentConfigProblems('connection_watch: false\n'), []);
  });
});

describe('agent connection watch in the agent', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  const dir = tempDir();
  before(async () => {
    nc = await connectTo(nats);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    await nc.close();
    dir.remove();
  });

  it('is on by default: the killed service is reported at once and the early run counted in /metrics', async () => {
    const server = createHttpServer((_req, res) => res.end('ok'));
    const port = await listen(server);
    const host = 'watch1';
    const config = AgentConfig.parse({
      host,
      nats: { servers: [nats.url] },
      state_dir: join(dir.path, host),
      resources: { enabled: false },
      checks: [{ name: 'svc', kind: 'http', url: `http://127.0.0.1:${port}/`, interval: '1h' }],
    });
    const agent = new Agent(config, { logger: silentLogger(), metricsListen: '127.0.0.1:0' });
    await agent.start();
    try {
      const results = (events: unknown[]) =>
        events.filter((e): e is CheckResult => (e as CheckResult).kind === 'check').map((c) => c.status);
      // The first run comes within min(interval, 10 s), spread like a fleet's; the second only through the watch.
      await readEvents(nc, host, (events) => results(events).length >= 1);
      kill(server);
      const events = await readEvents(nc, host, (events) => results(events).length >= 2);
      assert.deepEqual(results(events).slice(0, 2), ['ok', 'critical']);
      const text = await agent.registry.getSingleMetricAsString('offhook_agent_check_early_runs_total');
      assert.match(text, /offhook_agent_check_early_runs_total\{check="svc",reason="connection_closed"[^}]*\} 1$/m);
    } finally {
      await agent.stop();
      kill(server);
    }
  });
});
