import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../../shared/index.ts';
import type { GatewayConfigInput } from '../../../../telephony-gateway/config.ts';
import { openSipDriver, type SipDriver } from '../../../../telephony-gateway/drivers/sip/index.ts';
import { useNatsServer } from '../../../helpers/nats-server.ts';
import { killAndWait, spawnTracked } from '../../../../deploy/lib/processes.ts';
import { gatewayConfig, makeAlert } from '../../helpers.ts';
import { startWatchedGateway, UNTHROTTLED, type WatchedGateway } from '../../harness.ts';
import { parseWav } from '../../../../telephony-gateway/drivers/sip/wav.ts';
import { startSipp, type Sipp } from './sipp.ts';

/**
 * The gateway tests for storm grouping, escalation, budget and inbound calls, once more over the
 * sip driver, with SIPp as the people's phones and a real nats-server.
 */

type SipGateway = WatchedGateway & { driver: SipDriver };

describe('gateway over the sip driver (SIPp phones, real nats-server)', function () {
  this.timeout(120_000);
  const server = useNatsServer();
  let dir: string;
  let gw: SipGateway | null = null;
  let sipp: Sipp | null = null;
  let suite = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-sip-gw-'));
  });
  afterEach(async () => {
    await gw?.stop();
    gw = null;
    if (sipp) await killAndWait(sipp.child, 'SIGKILL');
    sipp = null;
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function startSipGateway(
    input: Partial<GatewayConfigInput>,
    phones: Sipp | null,
    digitTimeout = '3s',
  ): Promise<SipGateway> {
    const prefix = `gwsip${++suite}`;
    const sip = {
      local_address: '127.0.0.1',
      sip_port: 0,
      account: { mode: 'direct', user: 'gw' },
      dial_uri: `sip:{number}@127.0.0.1:${phones?.port ?? 9}`,
    };
    const config = gatewayConfig({
      gateway_host: 'gw1',
      state_dir: join(dir, prefix),
      nats: { servers: [server.url], prefix },
      ack_wait: '5s',
      ...input,
      line: {
        driver: 'sip',
        sip,
        answer_timeout: '5s',
        digit_timeout: digitTimeout,
        max_repeats: 0,
      } as GatewayConfigInput['line'],
      budget: { per_number: UNTHROTTLED, ...input.budget },
    });
    const driver = await openSipDriver({
      config: config.line.sip!,
      runDir: join(dir, prefix, 'sip'),
      logger: silentLogger(),
      spawnProcess: spawnTracked,
      stopGraceMs: 3_000,
    });
    const close = () => driver.close();
    const watched = await startWatchedGateway(server, config, driver, {
      logger: silentLogger(),
      close,
      waitTimeoutMs: 60_000,
    });
    return { ...watched, driver };
  }

  it('storm: 100 alerts become exactly one SIP call, acknowledged with 1', async () => {
    sipp = await startSipp('uas_answer_press1.xml');
    gw = await startSipGateway({ escalation: { group_wait: '2s' } }, sipp);
    const alerts = Array.from({ length: 100 }, (_, i) =>
      makeAlert({ host: `web${i}`, rule: 'disk', severity: i < 3 ? 'critical' : 'warning' }),
    );
    await Promise.all(alerts.map((a) => gw!.publish(a)));
    await gw.waitFor('the storm call', () => gw!.finished.length === 100);
    assert.equal(gw.calls.length, 1);
    assert.equal(gw.calls[0]!.outcome, 'acknowledged');
    assert.equal(gw.calls[0]!.fingerprints.length, 100);
    assert.equal(gw.acks.length, 100);
    assert.equal(await sipp.exited, 0, 'SIPp saw exactly one call, which succeeded');
  });

  it('486 from the first person escalates to the second, who acknowledges', async () => {
    sipp = await startSipp('uas_100_busy_others_press1.xml', { extra: ['-m', '2'] });
    gw = await startSipGateway({ escalation: { attempts_per_person: 1, retry_delay: '200ms' } }, sipp);
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor(
      'the acknowledged escalation',
      () => gw!.finished.some((f) => f.reason === 'acknowledged') && gw!.calls.length === 2,
    );
    assert.deepEqual(
      gw.calls.map((c) => [c.person, c.outcome]),
      [
        ['alice', 'busy'],
        ['bob', 'acknowledged'],
      ],
    );
    assert.equal(gw.acks[0]?.by, 'bob');
    assert.equal(await sipp.exited, 0);
  });

  it('budget: with max_calls_per_hour 2 the third alert is not dialled and goes to the fallback', async () => {
    sipp = await startSipp('uas_answer_press1.xml', { extra: ['-m', '2'] });
    gw = await startSipGateway({ budget: { max_calls_per_hour: 2 } }, sipp);
    for (let index = 0; index < 3; index++) {
      await gw.publish(makeAlert({ host: `web${index}` }));
      await gw.waitFor(
        `escalation ${index + 1} to end`,
        () => gw!.finished.length === index + 1 && gw!.calls.length === index + 1,
      );
    }
    assert.deepEqual(
      gw.calls.map((c) => c.outcome),
      ['acknowledged', 'acknowledged', 'rejected_budget'],
    );
    // The fallback goes out durably in the background (it must never hold up the line worker).
    await gw.waitFor('the fallback request', () => gw!.fallbacks.length === 1);
    assert.equal(gw.fallbacks[0]?.reason, 'budget_exhausted');
    assert.equal(await sipp.exited, 0, 'SIPp saw exactly two calls');
  });

  it('inbound from SIPp: the caller ID finds alice, PIN 1234#, 1 acknowledges the firing warning', async () => {
    // Only critical alerts ring out, so the warning is heard by calling in.
    gw = await startSipGateway(
      { escalation: { min_severity: 'critical' }, people: [{ name: 'alice', number: '+4930555123', pin: '1234' }] },
      null,
      '8s',
    );
    const alert = makeAlert({ severity: 'warning', summary: 'disk 95 %' });
    await gw.publish(alert);
    await gw.waitFor('the alert to be taken in', () => gw!.handled.length === 1);
    sipp = await startSipp('uac_pin_ack.xml', {
      target: `127.0.0.1:${gw.driver.line.supervisor.endpoint!.sipPort}`,
      extra: ['-s', 'gw', '-d', '1500'],
    });
    await gw.waitFor('the inbound call record', () => gw!.calls.some((c) => c.direction === 'inbound'));
    const record = gw.calls.find((c) => c.direction === 'inbound')!;
    assert.deepEqual(
      [record.person, record.outcome, record.fingerprints],
      ['alice', 'acknowledged', [alert.fingerprint]],
    );
    await gw.waitFor('the ack', () => gw!.acks.length === 1);
    assert.deepEqual([gw.acks[0]!.by, gw.acks[0]!.method], ['alice', 'inbound_call']);
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });

  it('baresip killed as the call is answered: one retry after the restart, acked; never 2 calls at once', async () => {
    sipp = await startSipp('uas_answer_press1.xml', { extra: ['-m', '2'] });
    gw = await startSipGateway({ escalation: { retry_delay: '200ms' } }, sipp);
    const supervisor = gw.driver.line.supervisor;
    const firstPid = supervisor.pid!;
    const pidAtEachAnswer: number[] = [];
    supervisor.on('event', (event) => {
      if (event.type !== 'CALL_ESTABLISHED') return;
      pidAtEachAnswer.push(supervisor.pid!);
      if (pidAtEachAnswer.length === 1) process.kill(firstPid, 'SIGKILL');
    });
    const alert = makeAlert();
    await gw.publish(alert);
    await gw.waitFor('the acknowledged retry', () => gw!.finished.some((f) => f.reason === 'acknowledged'));
    assert.deepEqual(
      gw.calls.map((c) => c.outcome),
      ['failed', 'acknowledged'],
    );
    assert.match(gw.calls[0]!.error ?? '', /SIP line failed during the call/);
    assert.equal(gw.acks.length, 1);
    assert.equal(pidAtEachAnswer.length, 2, 'exactly one retry reached the phone');
    assert.notEqual(pidAtEachAnswer[1], firstPid, 'the retry went through the new baresip, after the old one was gone');
  });

  it('inbound with voice notes: after the 1 the caller speaks, # ends the note, and the ack carries it', async () => {
    gw = await startSipGateway(
      {
        escalation: { min_severity: 'critical' },
        inbound: { voice_notes: true },
        people: [{ name: 'alice', number: '+4930555123', pin: '1234' }],
      },
      null,
      '8s',
    );
    const alert = makeAlert({ severity: 'warning' });
    await gw.publish(alert);
    await gw.waitFor('the alert to be taken in', () => gw!.handled.length === 1);
    sipp = await startSipp('uac_pin_ack_note.xml', {
      target: `127.0.0.1:${gw.driver.line.supervisor.endpoint!.sipPort}`,
      extra: ['-s', 'gw', '-d', '1500'],
    });
    await gw.waitFor('the ack', () => gw!.acks.length === 1);
    const note = gw.acks[0]!.voiceNote;
    assert.ok(note && existsSync(note), `voice note ${note} exists`);
    const audio = parseWav(readFileSync(note), note);
    assert.ok(
      audio.samples.length >= 8000 * 2 && audio.samples.some((sample) => Math.abs(sample) > 1000),
      'the note holds what the caller said',
    );
    assert.equal(await sipp.exited, 0, sipp.output().slice(-1500));
  });
});
