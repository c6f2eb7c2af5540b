import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  encodeMessage,
  ensureStreams,
  fingerprint,
  jetstreamClient,
  ManualClock,
  publishDurable,
  streamNames,
  Subjects,
  createRegistry,
} from '../../shared/index.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { SilenceStore } from '../../collector/silences/silence-store.ts';
import { openBucket } from '../../shared/index.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import type { EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { EventScript } from './alerts/engine-harness.ts';
import { RecordingSink, until } from './nats-harness.ts';

const subjects = new Subjects();

function config(server: EmbeddedNatsServer) {
  return CollectorConfig.parse({
    nats: { servers: [server.url] },
    listen: '127.0.0.1:0',
    checkpoint_interval: '1h',
    rules: [
      {
        name: 'disk',
        kind: 'threshold',
        metric: 'disk_used',
        crit: 90,
        summary: '{host}: disk {labels.mountpoint} is {value} % full',
      },
      { name: 'load', kind: 'threshold', metric: 'load', crit: 10, for: '5m' },
      { name: 'errors', kind: 'log', count: 1, within: '5m', severity: 'critical' },
      { name: 'host_down', kind: 'host_down' },
    ],
  });
}

describe('collector service on a real nats-server', () => {
  const bed = useCollectorBed();
  const { server } = bed;

  it('events in, alert on ALERTS, KV record, notifier told; acks, silences, bad input, status page', async () => {
    const clock = new ManualClock(Date.now());
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const collector = await bed.start(config(server), { registry, clock, sink });
    const js = jetstreamClient(bed.nc);
    const script = new EventScript(clock);
    const send = (event: { id: string; host: string; kind: 'resource' | 'check' | 'log' }) =>
      publishDurable(js, subjects.event(event.host, event.kind), event);

    bed.nc.publish(
      subjects.event('web1', 'resource'),
      encodeMessage({ v: 1, id: 'x', host: 'web1', kind: 'resource' }),
    );
    bed.nc.publish(subjects.event('web1', 'log'), 'not json');
    await send(script.resource('web1', 'disk_used', 95, { mountpoint: '/' }));
    await send(script.log('web1', 'errors', '<script>alert(1)</script> segfault'));
    await sink.waitForCount(2);
    assert.deepEqual(sink.lines(), ['firing web1 disk critical g1', 'firing web1 errors critical g1']);
    assert.equal(sink.submitted[0]!.alert.summary, 'web1: disk / is 95 % full');

    await collector.idle();
    const jsm = await jetstreamManager(bed.nc);
    const info = await jsm.streams.info(streamNames(subjects).alerts);
    assert.equal(info.state.messages, 2);
    const published = await jsm.streams.getMessage(streamNames(subjects).alerts, { seq: info.state.first_seq });
    assert.equal(published!.subject, 'offhook.v1.alerts.critical.web1');

    const fp = fingerprint('web1', 'disk', { mountpoint: '/' });
    const record = await (await openBucket(bed.nc, subjects, 'alerts')).get(fp);
    assert.equal(record!.json<{ alert: { generation: number; status: string } }>().alert.status, 'firing');

    const metrics = await registry.metrics();
    assert.match(metrics, /offhook_invalid_messages_total\{[^}]*reason="schema"[^}]*\} 1/);
    assert.match(metrics, /offhook_invalid_messages_total\{[^}]*reason="malformed_json"[^}]*\} 1/);
    assert.match(metrics, /offhook_alerts_firing\{severity="critical",process="collector"\} 2/);
    assert.match(metrics, /offhook_collector_events_total\{kind="resource",process="collector"\} 1/);
    assert.match(metrics, /offhook_hosts\{state="up",process="collector"\} 1/);
    assert.match(metrics, /offhook_collector_rule_evaluation_seconds_count\{[^}]*kind="resource"[^}]*\} 1/);

    // An ack stops repeats: it comes through the ACKS stream and changes the record, publishes nothing.
    await publishDurable(js, subjects.ack(fp), script.ack(fp, 'alice'));
    await until(() => collector.engine.records.get(fp)?.alert.acknowledged === true, 'the ack to apply');

    // A silence added in KV (as the CLI does) mutes a new alert on web2.
    const silences = new SilenceStore(await openBucket(bed.nc, subjects, 'silences'));
    const now = clock.now();
    await silences.add({
      matchers: [{ name: 'host', op: '=', value: 'web2' }],
      startsAt: now,
      endsAt: now + 3_600_000,
      createdBy: 'bob',
      comment: 'maintenance',
      createdAt: now,
    });
    await until(() => collector.engine.activeSilenceList().length === 1, 'the silence to arrive');
    await send(script.resource('web2', 'disk_used', 99, { mountpoint: '/' }));
    await until(
      () => collector.engine.records.has(fingerprint('web2', 'disk', { mountpoint: '/' })),
      'web2 alert to be tracked',
    );
    clock.advance(3_600_000);
    await sink.waitForCount(4);
    await collector.idle();
    assert.deepEqual(
      sink.lines().slice(2),
      ['resolved web1 errors critical g1', 'firing web2 disk critical g1'],
      'the log window slid past; web2 told when its silence ended; no repeat for the acked web1 alert',
    );

    const page = await (await fetch(`${collector.url}/`)).text();
    assert.ok(!page.includes('<script>alert(1)'), 'hostile log text is escaped');
    assert.ok(page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.match(page, /acked by alice/);
    const detail = await fetch(`${collector.url}/alerts/${fp}`);
    assert.equal(detail.status, 200);
    const detailHtml = await detail.text();
    assert.match(detailHtml, /<h1>web1: disk \/ is 95 % full<\/h1>/);
    assert.match(detailHtml, /alice at /);
    assert.equal((await fetch(`${collector.url}/alerts/%3Cscript%3E`)).status, 404);
    const api = (await (await fetch(`${collector.url}/api/alerts`)).json()) as {
      fingerprint: string;
      acknowledgedBy: string | null;
    }[];
    assert.equal(api.length, 2);
    assert.equal(api.find((a) => a.fingerprint === fp)!.acknowledgedBy, 'alice');
  });

  it('restart: alerts and pending `for` timers survive, EVENTS replay announces nothing twice', async () => {
    const prefix = 'restart';
    const own = new Subjects(prefix);
    const base = config(server);
    const cfg = { ...base, nats: { ...base.nats, prefix } };
    const clock = new ManualClock(Date.now());
    const script = new EventScript(clock);
    const js = jetstreamClient(bed.nc);
    const sink = new RecordingSink();
    // Garbage in the state buckets (a hand edit, a bug in another version) is skipped, not fatal.
    await ensureStreams(bed.nc, own);
    await (await openBucket(bed.nc, own, 'alerts')).put('0123456789abcdef', 'not json');
    await (await openBucket(bed.nc, own, 'checkpoints')).put(
      'collector.rule.6c6f6164',
      '{"kind":"threshold","coveredSeq":"x","state":[1,2]}',
    );
    let collector = await bed.start(cfg, { clock, sink });
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 95));
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'load', 50));
    await sink.waitForCount(1);
    await until(() => collector.engine.state.streamSeq === 2, 'both events processed');
    await collector.checkpoint();
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 96));
    await until(() => collector.engine.state.streamSeq === 3, 'third event processed');
    await collector.stop();

    const again = new RecordingSink();
    collector = await bed.start(cfg, { clock, sink: again });
    await until(() => collector.engine.state.streamSeq >= 3, 'replay');
    clock.advance(300_000);
    await again.waitForCount(1);
    await collector.idle();
    assert.deepEqual(
      again.lines(),
      ['firing web1 load critical g1'],
      'disk is not re-announced; load fires when its `for` elapses',
    );
  });

  it('an EVENTS stream recreated behind the checkpoint is read from its start, not skipped', async () => {
    const own = new Subjects('reset');
    const base = config(server);
    const cfg = { ...base, nats: { ...base.nats, prefix: 'reset' } };
    const clock = new ManualClock(Date.now());
    const script = new EventScript(clock);
    const js = jetstreamClient(bed.nc);
    const sink = new RecordingSink();
    let collector = await bed.start(cfg, { clock, sink });
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 50));
    await publishDurable(js, own.event('web1', 'resource'), script.resource('web1', 'disk_used', 51));
    await until(() => collector.engine.state.streamSeq === 2, 'events processed');
    await collector.stop();
    await (await jetstreamManager(bed.nc)).streams.delete(streamNames(own).events);

    collector = await bed.start(cfg, { clock, sink });
    await publishDurable(js, own.event('web2', 'resource'), script.resource('web2', 'disk_used', 99));
    await sink.waitForCount(1);
    assert.deepEqual(sink.lines(), ['firing web2 disk critical g1']);
  });
});
