import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Ack, ensureStreams, streamNames, Subjects, type Alert, type LogMatch } from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { assertOneCallAtATime, readTranscript, waitForTranscript } from '../helpers/transcript.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { answersAndAcks, GENEROUS_BUDGET, readStream, recordCalls, recordFault, speechDir } from './common.ts';

const PREFIX = 'sigkill';
const subjects = new Subjects(PREFIX);
const BATCHES = 40;
const LINES_PER_BATCH = 100;
const MATCH_EVERY = 200;
const MATCHES = (BATCHES * LINES_PER_BATCH) / MATCH_EVERY;
const UNITS = 5;
/**
 * Match k (line 50 + 200k, so in batch 2k+1) names unit floor(k/4): a new alert starts in every phase of the scenario.
 */
const unitOf = (k: number): string => `u${Math.floor(k / (MATCHES / UNITS))}`;

describe('faults: SIGKILL of the collector, the gateway mid-call, an agent mid-log-file, each restarted', function () {
  this.timeout(240_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  const live = new Set<OffhookProcess>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-kill-'));
    nc = await connectTo(server);
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    for (const p of live) await killAndWait(p.child, 'SIGTERM');
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no alert, no duplicate notification, repeats at most the killed call, never 2 calls at once', async () => {
    const hook = await webhookReceiver();
    const logFile = join(dir, 'app.log');
    writeFileSync(logFile, '');
    const calls = recordCalls(nc, subjects);
    const acks: Ack[] = [];
    nc.subscribe(subjects.allAcks, { callback: (_e, m) => void acks.push(Ack.parse(m.json())) });

    const collectorConfig = {
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      evaluation_interval: '200ms',
      checkpoint_interval: '500ms',
      rules: [{ name: 'app_fatal', kind: 'log', log_rule: '^fatal$', count: 1, within: '1h', severity: 'critical' }],
      notifications: {
        receivers: [{ name: 'hook', kind: 'webhook', url: hook.url, retry: { initial_backoff: '100ms' } }],
        routes: [{ receiver: 'hook' }],
      },
    };
    const gatewayConfig = (life: string, farEnd: object[]): Record<string, unknown> => {
      writeFileSync(join(dir, `${life}.jsonl`), '');
      return {
        gateway_host: 'gw1',
        nats: { servers: [server.url], prefix: PREFIX },
        state_dir: speechDir,
        metrics_listen: '127.0.0.1:0',
        ack_wait: '1s',
        line: { backend: 'sim', sim: { speed: 100, transcript_file: join(dir, `${life}.jsonl`), far_end: farEnd } },
        people: [{ name: 'alice', number: '100' }],
        budget: GENEROUS_BUDGET,
      };
    };
    const agentConfig = {
      host: 'app1',
      nats: { servers: [server.url], prefix: PREFIX },
      state_dir: join(dir, 'agent-state'),
      metrics_listen: '127.0.0.1:0',
      heartbeat_interval: '1s',
      resources: { enabled: false },
      logs: [
        {
          path: logFile,
          start_at: 'beginning',
          poll_interval: '50ms',
          rules: [{ name: 'fatal', pattern: 'FATAL unit=(?<unit>u\\d+)', severity: 'critical', capture: ['unit'] }],
        },
      ],
    };
    const start = async (
      kind: 'agent' | 'collector' | 'gateway',
      name: string,
      config: Record<string, unknown>,
    ): Promise<OffhookProcess> => {
      const p = await startOffhook(kind, dir, name, config);
      live.add(p);
      return p;
    };
    const kill = async (p: OffhookProcess): Promise<void> => {
      await killAndWait(p.child, 'SIGKILL');
      live.delete(p);
    };
    let lineNo = 0;
    const writeBatch = (): void => {
      const lines: string[] = [];
      for (let i = 0; i < LINES_PER_BATCH; i++, lineNo++) {
        lines.push(
          lineNo % MATCH_EVERY === 50
            ? `2026-11-25T12:00:00Z app[42]: FATAL unit=${unitOf(Math.floor(lineNo / MATCH_EVERY))} line=${lineNo}`
            : `2026-11-25T12:00:00Z app[42]: INFO request served line=${lineNo}`,
        );
      }
      appendFileSync(logFile, `${lines.join('\n')}\n`);
    };
    const names = streamNames(subjects);
    const jsm = await jetstreamManager(nc);
    const logEventsStored = async (): Promise<number> =>
      (await jsm.streams.info(names.events, { subjects_filter: subjects.event('app1', 'log') })).state.messages;
    const firing = (unit: string): boolean => hook.alerts.some((a) => a.status === 'firing' && a.labels.unit === unit);

    let collector = await start('collector', 'collector-1', collectorConfig);
    // The gateway's durable consumer is created on first start: start it before any alert.
    const gateway1 = await start(
      'gateway',
      'gateway-1',
      gatewayConfig('line-1', [{ number: '100', answerAfterRings: 1, then: [{ wait: 600_000 }] }]),
    );
    let agent = await start('agent', 'agent-1', agentConfig);

    // 1. Gateway killed mid-call: the first alert (u0) rings Alice, who listens without pressing a key.
    writeBatch();
    await waitForTranscript(join(dir, 'line-1.jsonl'), 'play', 60_000);
    await kill(gateway1);
    const gateway2 = await start('gateway', 'gateway-2', gatewayConfig('line-2', answersAndAcks('100', 20)));

    // 2. Agent killed mid-log-file: once it has published some matches; the file keeps growing while it is dead.
    for (let b = 2; b <= 14; b++) writeBatch();
    await untilPolled(async () => (await logEventsStored()) >= 4, 'the agent publishing its first matches', 60_000, 50);
    await kill(agent);
    const storedAtAgentKill = await logEventsStored();
    for (let b = 15; b <= 22; b++) writeBatch();
    agent = await start('agent', 'agent-2', agentConfig);

    // 3. Collector killed right after the lines of a new alert (u3) were written, while it works through them.
    await untilPolled(() => firing('u2'), 'u2 firing (the collector is up to date)', 60_000, 50);
    for (let b = 23; b <= 26; b++) writeBatch();
    await untilPolled(async () => (await logEventsStored()) >= 13, 'the u3 match published', 60_000, 20);
    await kill(collector);
    for (let b = 27; b <= 30; b++) writeBatch();
    collector = await start('collector', 'collector-2', collectorConfig);
    for (let b = 31; b <= BATCHES; b++) writeBatch();

    // Everything must arrive: every match once, every alert notified once, every alert acknowledged on the phone.
    await untilPolled(async () => (await logEventsStored()) >= MATCHES, `${MATCHES} log matches stored`, 60_000, 100);
    const units = Array.from({ length: UNITS }, (_, i) => `u${i}`);
    await untilPolled(() => units.every(firing), 'a firing notification for every unit', 60_000, 100);
    const alertsStored = (await jsm.streams.info(names.alerts)).state.messages;
    const alerts = (await readStream<Alert>(nc, names.alerts, alertsStored)).map((m) => m.data);
    const fingerprints = [...new Set(alerts.map((a) => a.fingerprint))];
    const acknowledged = (): Set<string> =>
      new Set(calls.filter((c) => c.outcome === 'acknowledged').flatMap((c) => c.fingerprints));
    await untilPolled(
      () => fingerprints.every((fp) => acknowledged().has(fp)),
      'every alert acknowledged on the phone',
      120_000,
      100,
    );
    await killAndWait(collector.child, 'SIGTERM');
    live.delete(collector);
    await killAndWait(gateway2.child, 'SIGTERM');
    live.delete(gateway2);

    const logEvents = (
      await readStream<LogMatch>(nc, names.events, (await jsm.streams.info(names.events)).state.messages)
    )
      .map((m) => m.data)
      .filter((e) => e.kind === 'log');
    const offsets = logEvents.map((e) => e.offset);
    assert.equal(logEvents.length, MATCHES, 'every matching line published exactly once across the agent kill');
    assert.equal(new Set(offsets).size, MATCHES, 'no line published twice');
    const seqs = logEvents.map((e) => e.seq).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, seqs.length, 'no seq reused after the kill');

    assert.equal(fingerprints.length, UNITS, 'one alert per unit, none lost');
    assert.deepEqual(
      alerts.map((a) => `${a.labels.unit} ${a.status} g${a.generation}`).sort(),
      units.map((u) => `${u} firing g1`),
      'one ALERTS message per alert: no re-fire after the collector kill',
    );
    // Delivery is at-least-once across a SIGKILL: a notification the receiver took just before the kill, but whose
    // "sent" record was not yet written, is re-sent by the next collector from its pending log. Only those may repeat.
    const resumed = new Set(
      [...collector.output().matchAll(/"fingerprint":"([^"]+)"[^\n]*resuming a notification/g)].map((m) => m[1]),
    );
    const firingNotifications = hook.alerts.filter((a) => a.status === 'firing');
    for (const unit of units) {
      const copies = firingNotifications.filter((a) => a.labels.unit === unit);
      const resent = copies.length === 2 && resumed.has(copies[0]!.fingerprint);
      assert.ok(
        copies.length === 1 || resent,
        `one notification for ${unit} (got ${copies.length}; resumed: ${[...resumed].join(',') || 'none'})`,
      );
    }

    const line1 = readTranscript(join(dir, 'line-1.jsonl'));
    const line2 = readTranscript(join(dir, 'line-2.jsonl'));
    assert.equal(assertOneCallAtATime(line1), 1, 'the killed call');
    const repeatedCalls = assertOneCallAtATime(line2);
    for (const fp of fingerprints)
      assert.equal(
        calls.filter((c) => c.fingerprints.includes(fp)).length,
        1,
        `alert ${fp} is in exactly one finished call`,
      );
    assert.equal(new Set(acks.map((a) => a.fingerprint)).size, UNITS);
    await hook.close();

    recordFault({
      scenario: 'SIGKILL collector / gateway mid-call / agent mid-log-file',
      tried:
        `${BATCHES * LINES_PER_BATCH} log lines (${MATCHES} matching, ` +
        `${UNITS} alerts) written while the gateway was SIGKILLed during a call, ` +
        `the agent SIGKILLed after ${storedAtAgentKill} matches and the collector SIGKILLed ` +
        `mid-stream, each restarted`,
      counts: {
        log_matches_published: logEvents.length,
        alerts_fired: fingerprints.length,
        firing_notifications: firingNotifications.length,
        resent_after_collector_kill: firingNotifications.length - UNITS,
        calls_first_gateway: 1,
        calls_after_restart: repeatedCalls,
        call_records: calls.length,
        acks: acks.length,
      },
      lost:
        MATCHES -
        new Set(offsets).size +
        (UNITS - fingerprints.length) +
        fingerprints.filter((fp) => !acknowledged().has(fp)).length,
    });
  });
});
