import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ensureStreams,
  fingerprint,
  jetstreamClient,
  newId,
  publishDurable,
  SCHEMA_VERSION,
  Subjects,
  type ResourceSample,
} from '../../shared/index.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook, type OffhookProcess } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { scrape, sumOf } from '../../deploy/lib/metrics-text.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { ackingGatewayConfig, recordCalls, recordFault } from './common.ts';

const PREFIX = 'hostile';
const subjects = new Subjects(PREFIX);
const TOTAL = 10_000;
const GOOD_HOSTS = ['good0', 'good1', 'good2', 'good3', 'good4'];

type Family = 'events.resource' | 'heartbeat' | 'alerts' | 'ack';
type Category =
  | 'malformed_json'
  | 'wrong_types'
  | 'unknown_version'
  | 'host_mismatch'
  | 'prototype_keys'
  | 'not_an_object'
  | 'huge';

function validSample(host: string, seq: number, value: number): ResourceSample {
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    seq,
    kind: 'resource',
    intervalMs: 1000,
    metrics: [{ name: 'fault_gauge', type: 'gauge', value }],
  };
}

/** A message that is right in every way but the one its category breaks, for the subject family. */
function validFor(family: Family, host: string): Record<string, unknown> {
  const base = { v: SCHEMA_VERSION, id: newId(), host, ts: Date.now() };
  const fp = fingerprint(host, 'hostile', {});
  switch (family) {
    case 'events.resource':
      return { ...validSample(host, 1, 1) };
    case 'heartbeat':
      return {
        ...base,
        seq: 1,
        kind: 'heartbeat',
        agentVersion: '0.1.0',
        uptimeSec: 1,
        intervalMs: 1000,
        spoolDepth: 0,
      };
    case 'alerts':
      return {
        ...base,
        fingerprint: fp,
        status: 'firing',
        severity: 'critical',
        rule: 'hostile',
        ruleKind: 'threshold',
        labels: {},
        summary: 'x',
        value: 1,
        startsAt: 1,
        endsAt: 0,
        generation: 1,
        inhibited: false,
        acknowledged: false,
      };
    case 'ack':
      return { ...base, fingerprint: fp, by: 'mallory', method: 'cli' };
  }
}

function hostile(category: Category, family: Family, i: number): { host: string; payload: string } {
  const host = `evil${i % 50}`;
  const valid = validFor(family, host);
  switch (category) {
    case 'malformed_json':
      return { host, payload: JSON.stringify(valid).slice(0, 10 + (i % 40)) };
    case 'wrong_types':
      return {
        host,
        payload: JSON.stringify({ ...valid, ts: 'yesterday', id: 42, seq: 'seven', severity: 7, fingerprint: ['x'] }),
      };
    case 'unknown_version':
      return { host, payload: JSON.stringify({ ...valid, v: 99 + (i % 3) }) };
    // The payload names a host the subject does not: someone publishing as another host.
    case 'host_mismatch':
      return { host: `other${i % 50}`, payload: JSON.stringify(valid) };
    case 'prototype_keys':
      return {
        host,
        payload:
          i % 2 === 0
            ? `{"__proto__":{"polluted":true},${JSON.stringify(valid).slice(1)}`
            : JSON.stringify({ ...valid, labels: { constructor: { prototype: { polluted: true } } } }),
      };
    case 'not_an_object':
      return { host, payload: ['[]', 'null', '42', '"text"', 'true'][i % 5]! };
    case 'huge':
      return { host, payload: JSON.stringify({ ...valid, summary: 'A'.repeat(300 * 1024) }) };
  }
}

function subjectFor(family: Family, host: string, i: number): string {
  switch (family) {
    case 'events.resource':
      return subjects.event(host, 'resource');
    case 'heartbeat':
      return subjects.heartbeat(host);
    case 'alerts':
      return subjects.alert('critical', host);
    case 'ack':
      return subjects.ack(fingerprint(host, `hostile${i}`, {}));
  }
}

/**
 * Half the flood goes to the collector's stream, the rest to heartbeats, the gateway's ALERTS and ACKS (read by both).
 */
function familyOf(i: number): Family {
  const slot = i % 20;
  if (slot < 10) return 'events.resource';
  if (slot < 14) return 'heartbeat';
  if (slot < 19) return 'alerts';
  return 'ack';
}

const CATEGORIES: Category[] = [
  'malformed_json',
  'wrong_types',
  'unknown_version',
  'host_mismatch',
  'prototype_keys',
  'not_an_object',
];

describe('faults: 10,000 hostile messages against the real collector and gateway', function () {
  this.timeout(240_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let dir: string;
  const started: OffhookProcess[] = [];

  before(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-hostile-'));
    await ensureStreams(nc, subjects);
  });
  after(async () => {
    for (const p of started) await killAndWait(p.child, 'SIGTERM');
    await nc?.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts each by subject and reason, crashes nothing; valid alerts are still notified and called', async () => {
    const hook = await webhookReceiver();
    const collector = await startOffhook('collector', dir, 'collector', {
      nats: { servers: [server.url], prefix: PREFIX },
      listen: '127.0.0.1:0',
      evaluation_interval: '200ms',
      defaults: { flapping: { enabled: false } },
      rules: [{ name: 'fault_high', kind: 'threshold', metric: 'fault_gauge', crit: 50 }],
      notifications: { receivers: [{ name: 'hook', kind: 'webhook', url: hook.url }], routes: [{ receiver: 'hook' }] },
    });
    started.push(collector);
    const gateway = await startOffhook(
      'gateway',
      dir,
      'gateway',
      ackingGatewayConfig(server.url, PREFIX, GOOD_HOSTS.length),
    );
    started.push(gateway);
    const calls = recordCalls(nc, subjects);

    const js = jetstreamClient(nc);
    const expected = new Map<Family, number>();
    const byCategory = new Map<Category, number>();
    let refusedByServer = 0;
    let validEvents = 0;
    const seqs = new Map<string, number>();
    const sendValid = async (host: string, value: number): Promise<void> => {
      const seq = (seqs.get(host) ?? 0) + 1;
      seqs.set(host, seq);
      await publishDurable(js, subjects.event(host, 'resource'), validSample(host, seq, value));
      validEvents++;
    };

    let inflight: Promise<void>[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const family = familyOf(i);
      // A few huge payloads (300 KiB, over the 256 KiB limit), only through JetStream where the publish is
      // acknowledged.
      const category: Category =
        i % 500 === 7 && family !== 'heartbeat' ? 'huge' : CATEGORIES[Math.floor(i / 20) % CATEGORIES.length]!;
      const { host, payload } = hostile(category, family, i);
      const subject = subjectFor(family, host, i);
      byCategory.set(category, (byCategory.get(category) ?? 0) + 1);
      if (family === 'heartbeat') {
        nc.publish(subject, payload);
        expected.set(family, (expected.get(family) ?? 0) + 1);
      } else {
        inflight.push(
          js.publish(subject, payload).then(
            () => void expected.set(family, (expected.get(family) ?? 0) + 1),
            () => void (refusedByServer += 1),
          ),
        );
      }
      // Valid traffic rides along: every host stays under the line, then crosses it once at the end.
      if (i % 1000 === 999) for (const host of GOOD_HOSTS) inflight.push(sendValid(host, 10 + (i % 30)));
      if (inflight.length >= 200) await Promise.all(inflight.splice(0));
    }
    await Promise.all(inflight);
    inflight = [];
    await nc.flush();
    for (const host of GOOD_HOSTS) await sendValid(host, 99);

    const want = {
      collector: (expected.get('events.resource') ?? 0) + (expected.get('heartbeat') ?? 0) + (expected.get('ack') ?? 0),
      gateway: (expected.get('alerts') ?? 0) + (expected.get('ack') ?? 0),
    };
    await untilPolled(
      async () => sumOf(await scrape(collector.metricsUrl), 'offhook_invalid_messages_total') >= want.collector,
      `collector counting ${want.collector} invalid messages`,
      120_000,
      250,
    );
    await untilPolled(
      async () => sumOf(await scrape(gateway.metricsUrl), 'offhook_invalid_messages_total') >= want.gateway,
      `gateway counting ${want.gateway} invalid messages`,
      120_000,
      250,
    );
    await untilPolled(
      () => GOOD_HOSTS.every((h) => hook.received.includes(`firing fault_high ${h}`)),
      'a notification for every valid alert',
      60_000,
      100,
    );
    const fingerprints = GOOD_HOSTS.map((h) => fingerprint(h, 'fault_high', {}));
    const acknowledged = (): Set<string> =>
      new Set(calls.filter((c) => c.outcome === 'acknowledged').flatMap((c) => c.fingerprints));
    await untilPolled(
      () => fingerprints.every((fp) => acknowledged().has(fp)),
      'a call acknowledging every valid alert',
      90_000,
      100,
    );

    const collectorMetrics = await scrape(collector.metricsUrl);
    const gatewayMetrics = await scrape(gateway.metricsUrl);
    assert.ok(collector.alive() && gateway.alive(), 'both processes are still running');
    assert.equal((await fetch(`${collector.url}/healthz`)).status, 200);
    assert.equal(
      sumOf(collectorMetrics, 'offhook_invalid_messages_total'),
      want.collector,
      'collector: every hostile message counted once',
    );
    assert.equal(
      sumOf(gatewayMetrics, 'offhook_invalid_messages_total'),
      want.gateway,
      'gateway: every hostile message counted once',
    );
    assert.equal(
      sumOf(collectorMetrics, 'offhook_invalid_messages_total', { subject: 'heartbeat' }),
      expected.get('heartbeat'),
    );
    assert.equal(
      sumOf(gatewayMetrics, 'offhook_invalid_messages_total', { subject: 'alerts' }),
      expected.get('alerts'),
    );
    for (const reason of [
      'malformed_json',
      'schema',
      'unsupported_version',
      'subject_mismatch',
      'forbidden_key',
      'too_large',
    ]) {
      assert.ok(
        sumOf(collectorMetrics, 'offhook_invalid_messages_total', { reason }) > 0,
        `collector counted ${reason}`,
      );
    }
    assert.equal(
      sumOf(collectorMetrics, 'offhook_collector_events_total'),
      validEvents,
      'every valid event was evaluated',
    );
    assert.deepEqual(
      [...hook.received].sort(),
      GOOD_HOSTS.map((h) => `firing fault_high ${h}`).sort(),
      'exactly the valid alerts were notified, once each',
    );
    assert.ok(
      !calls.some((c) => c.fingerprints.some((fp) => !fingerprints.includes(fp))),
      'no call about a hostile alert',
    );
    await hook.close();

    recordFault({
      scenario: 'hostile messages',
      tried:
        `${TOTAL} hostile messages ` +
        `(${[...byCategory].map(([c, n]) => `${c} ${n}`).join(', ')}) on ` +
        `events/heartbeat/alerts/ack subjects, with ${validEvents} valid events interleaved`,
      counts: {
        collector_invalid_counted: sumOf(collectorMetrics, 'offhook_invalid_messages_total'),
        gateway_invalid_counted: sumOf(gatewayMetrics, 'offhook_invalid_messages_total'),
        refused_by_nats: refusedByServer,
        valid_events_evaluated: sumOf(collectorMetrics, 'offhook_collector_events_total'),
        valid_alerts_notified: hook.received.length,
        valid_alerts_acknowledged_by_phone: acknowledged().size,
        crashes: [collector, gateway].filter((p) => !p.alive()).length,
      },
      lost:
        GOOD_HOSTS.length -
        acknowledged().size +
        (validEvents - sumOf(collectorMetrics, 'offhook_collector_events_total')),
    });
  });
});
