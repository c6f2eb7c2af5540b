import assert from 'node:assert/strict';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from '../../../../shared/index.ts';
import { SipLine } from '../../../../telephony-gateway/drivers/sip/sip-line.ts';
import { killAndWait, spawnTracked } from '../../../../deploy/lib/processes.ts';
import { makePrompt, sipConfig } from './fixtures.ts';
import { startSipp, type Sipp } from './sipp.ts';
import { startTlsRegistrar } from './tls-registrar.ts';

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = registry.getSingleMetric(name);
  if (!found) return 0;
  const { values } = await found.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val))
    .reduce((sum, v) => sum + v.value, 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('sip line supervision (baresip dies, hangs, registers)', function () {
  this.timeout(60_000);
  let dir: string;
  let line: SipLine | null = null;
  let sipp: Sipp | null = null;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-sip-sup-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await line?.close();
    line = null;
    if (sipp) await killAndWait(sipp.child, 'SIGKILL');
    sipp = null;
  });

  function newLine(
    config: ReturnType<typeof sipConfig>,
    registry: Registry,
    logger = pino({ level: 'silent' }),
  ): SipLine {
    line = new SipLine({
      config,
      runDir: join(dir, `run-${Date.now()}`),
      logger,
      registry,
      spawnProcess: spawnTracked,
      stopGraceMs: 3_000,
    });
    return line;
  }

  it('baresip killed: the line goes down (metric, event) and a new baresip takes over', async () => {
    const registry = new Registry();
    const sip = newLine(sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9' }), registry);
    await sip.open();
    assert.equal(await metric(registry, 'offhook_sip_line_up'), 1);
    const first = sip.supervisor.pid!;
    const down = once(sip.supervisor, 'down');
    process.kill(first, 'SIGKILL');
    const [reason] = (await down) as [string];
    assert.match(reason, /exited \(code null, signal SIGKILL\)/);
    assert.equal(await metric(registry, 'offhook_sip_line_up'), 0);
    await sip.supervisor.waitUntilUp();
    assert.notEqual(sip.supervisor.pid, first);
    assert.equal(await metric(registry, 'offhook_sip_line_up'), 1);
    assert.equal(await metric(registry, 'offhook_sip_baresip_restarts_total', { reason: 'exited' }), 1);
  });

  it('baresip hung (SIGSTOP): the health check notices, kills it by PID and starts another', async () => {
    const registry = new Registry();
    const sip = newLine(
      sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9', health_interval: '200ms', health_timeout: '500ms' }),
      registry,
    );
    await sip.open();
    const first = sip.supervisor.pid!;
    const down = once(sip.supervisor, 'down');
    process.kill(first, 'SIGSTOP');
    const [reason] = (await down) as [string];
    assert.match(reason, /hung/);
    await sip.supervisor.waitUntilUp();
    assert.notEqual(sip.supervisor.pid, first);
    assert.equal(await metric(registry, 'offhook_sip_baresip_restarts_total', { reason: 'hung' }), 1);
  });

  it('killed mid-call: the prompt fails as a line fault; the next call waits for the restart, once', async () => {
    sipp = await startSipp('-sn uas', { extra: ['-m', '2'] });
    const registry = new Registry();
    const sip = newLine(sipConfig({ dial_uri: `sip:{number}@127.0.0.1:${sipp.port}` }), registry);
    await sip.open();
    const prompt = makePrompt(dir);
    assert.equal((await sip.placeCall('4930123', { answerTimeoutMs: 5_000 })).outcome, 'answered');
    const first = sip.supervisor.pid!;
    let hangups = 0;
    sip.onHangup(() => hangups++);
    const playing = sip.play(prompt);
    process.kill(first, 'SIGKILL');
    await assert.rejects(playing, /SIP line failed during the call: baresip exited \(code null, signal SIGKILL\)/);
    assert.equal(hangups, 0, 'a lost line is not the person hanging up');
    // Dialled while baresip is still down: the call waits for the new one (as for dial tone) instead of failing or
    // doubling.
    const again = await sip.placeCall('4930123', { answerTimeoutMs: 5_000, dialToneTimeoutMs: 10_000 });
    assert.equal(again.outcome, 'answered');
    assert.equal(alive(first), false);
    assert.notEqual(sip.supervisor.pid, first);
    await sip.hangUp();
    assert.equal(await metric(registry, 'offhook_sip_baresip_restarts_total', { reason: 'exited' }), 1);
  });

  it('line still down after the dial-tone wait: no_dial_tone naming the cause, a gateway line fault', async () => {
    const registry = new Registry();
    const sip = newLine(
      sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9', restart_backoff_min: '30s', restart_backoff_max: '30s' }),
      registry,
    );
    await sip.open();
    const down = once(sip.supervisor, 'down');
    process.kill(sip.supervisor.pid!, 'SIGKILL');
    await down;
    const placed = await sip.placeCall('4930123', { answerTimeoutMs: 5_000, dialToneTimeoutMs: 200 });
    assert.equal(placed.outcome, 'no_dial_tone');
    assert.match(placed.detail ?? '', /^SIP line down: baresip exited/);
  });

  it('a registrar refusing the password: registered gauge 0 and one error log naming its answer', async () => {
    sipp = await startSipp('registrar_digest.xml', { extra: ['-key', 'password', 'the-right-one'] });
    const logged: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) }),
    );
    const config = sipConfig({
      health_interval: '100ms',
      account: {
        mode: 'register',
        registrar: `127.0.0.1:${sipp.port}`,
        realm: 'offhook.test',
        user: 'gw',
        password: 'a-wrong-one',
      },
    });
    const registry = new Registry();
    const sip = newLine(config, registry, logger);
    await sip.open();
    const failed = (): string | undefined => logged.find((line) => line.includes('SIP registration failed'));
    const deadline = Date.now() + 10_000;
    while (!failed()) {
      assert.ok(Date.now() < deadline, 'no registration failure logged within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50)); // polling the condition; the deadline bounds it
    }
    assert.match(failed()!, /403 Forbidden/);
    assert.equal(await metric(registry, 'offhook_sip_registered'), 0);
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
    assert.ok(!logged.join('').includes('a-wrong-one'));
  });

  it('stopped while starting or restarting: stop() returns only when every baresip it spawned has exited', async () => {
    const spawned: ChildProcess[] = [];
    const spawns = new EventEmitter();
    const recording = (command: string, args: string[], options: SpawnOptions): ChildProcess => {
      const child = spawnTracked(command, args, options);
      spawned.push(child);
      spawns.emit('spawn');
      return child;
    };
    const exitedAll = (): boolean => spawned.every((child) => child.exitCode !== null || child.signalCode !== null);
    const early = new SipLine({
      config: sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9' }),
      runDir: join(dir, 'early'),
      logger: pino({ level: 'silent' }),
      spawnProcess: recording,
    });
    // open() may reject once close() interrupts it: what is checked is that nothing was spawned.
    const earlyOpen = early.open().catch(() => undefined);
    await early.close(); // while free ports are being picked: nothing may be spawned afterwards
    await earlyOpen;
    assert.equal(spawned.length, 0);

    const starting = new SipLine({
      config: sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9' }),
      runDir: join(dir, 'starting'),
      logger: pino({ level: 'silent' }),
      spawnProcess: recording,
    });
    const firstSpawn = once(spawns, 'spawn');
    // Same: open() may reject once close() interrupts it; the check is that the spawned baresip is gone.
    const opened = starting.open().catch(() => undefined);
    await firstSpawn; // spawned, not yet ready
    await starting.close();
    await opened;
    assert.equal(spawned.length, 1);
    assert.ok(exitedAll(), 'a baresip spawned during start survived stop()');

    const restarting = new SipLine({
      config: sipConfig({ dial_uri: 'sip:{number}@127.0.0.1:9', restart_backoff_min: '10ms' }),
      runDir: join(dir, 'restarting'),
      logger: pino({ level: 'silent' }),
      spawnProcess: recording,
    });
    await restarting.open();
    const respawned = once(spawns, 'spawn');
    process.kill(restarting.supervisor.pid!, 'SIGKILL');
    await respawned; // the replacement is starting, not yet ready
    await restarting.close();
    assert.equal(spawned.length, 3);
    assert.ok(exitedAll(), 'a baresip spawned during the restart survived stop()');
  });

  it('registers over TCP with digest auth; the password is in a 0600 file, never in argv or logs', async () => {
    const password = 'p;w d>x,y';
    sipp = await startSipp('registrar_digest.xml', { transport: 't1', extra: ['-key', 'password', password] });
    const logged: string[] = [];
    const logger = pino(
      { level: 'debug' },
      new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) }),
    );
    const config = sipConfig({
      account: {
        mode: 'register',
        registrar: `127.0.0.1:${sipp.port}`,
        realm: 'offhook.test',
        user: 'gw',
        password,
        transport: 'tcp',
      },
    });
    const registry = new Registry();
    const sip = newLine(config, registry, logger);
    await sip.open();
    const deadline = Date.now() + 10_000;
    while ((await sip.supervisor.isRegistered()) !== 1) {
      assert.ok(Date.now() < deadline, 'not registered within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 50)); // polling the condition; the deadline bounds it
    }
    const pid = sip.supervisor.pid!;
    assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(password));
    const runDir = join(dir, readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[2]!.split('/').slice(-2, -1)[0]!);
    assert.equal(statSync(join(runDir, 'baresip', 'accounts')).mode & 0o777, 0o600);
    assert.equal(statSync(join(runDir, 'baresip')).mode & 0o777, 0o700);
    assert.ok(readFileSync(join(runDir, 'baresip', 'accounts'), 'utf8').includes(`auth_pass="${password}"`));
    await sip.close();
    line = null;
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
    assert.ok(logged.length > 0);
    assert.ok(!logged.join('').includes(password), 'password appeared in the logs');
  });

  it('registers over TLS with digest auth (baresip connects to the registrar with TLS)', async () => {
    const registrar = await startTlsRegistrar(dir, 'offhook.test', 'gw', 'tls-secret');
    try {
      const config = sipConfig({
        account: {
          mode: 'register',
          registrar: `127.0.0.1:${registrar.port}`,
          realm: 'offhook.test',
          user: 'gw',
          password: 'tls-secret',
          transport: 'tls',
        },
      });
      const sip = newLine(config, new Registry());
      await sip.open();
      const deadline = Date.now() + 10_000;
      while ((await sip.supervisor.isRegistered()) !== 1) {
        assert.ok(Date.now() < deadline, `not registered within 10 s: ${JSON.stringify(registrar.registers)}`);
        await new Promise((resolve) => setTimeout(resolve, 50)); // polling the condition; the deadline bounds it
      }
      assert.deepEqual(registrar.registers.map((r) => r.authorised).slice(0, 2), [null, true]);
      assert.match(registrar.registers[0]!.via, /^SIP\/2\.0\/TLS /);
    } finally {
      await line?.close();
      line = null;
      await registrar.close();
    }
  });
});
