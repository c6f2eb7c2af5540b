import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  decode,
  InboundValidator,
  createRegistry,
  silentLogger,
  Subjects,
  MAX_PAYLOAD_BYTES,
  ResourceSample,
} from '../../shared/index.ts';
import { sampleMessages } from '../fixtures/messages.ts';

const subjects = new Subjects();
const subjectFor = {
  resource: subjects.event('web1', 'resource'),
  check: subjects.event('web1', 'check'),
  log: subjects.event('web1', 'log'),
  heartbeat: subjects.heartbeat('web1'),
  alert: subjects.alert('critical', 'web1'),
  ack: subjects.ack('0123456789abcdef'),
  call: subjects.call('0123456789abcdef'),
  fallback: subjects.fallback('pbx'),
  collector_heartbeat: subjects.collectorHeartbeat('c1'),
  gateway_heartbeat: subjects.gatewayHeartbeat('pbx'),
} as const;

function rejectReason(subject: string, payload: unknown): string {
  const result = decode(subject, typeof payload === 'string' ? payload : JSON.stringify(payload));
  assert.equal(result.ok, false, `expected a rejection for ${JSON.stringify(payload).slice(0, 120)}`);
  return result.ok ? '' : `${result.reason}: ${result.detail}`;
}

describe('decode', () => {
  const messages = sampleMessages();

  for (const type of Object.keys(subjectFor) as (keyof typeof subjectFor)[]) {
    it(`round-trips a ${type} message`, () => {
      const result = decode(subjectFor[type], new TextEncoder().encode(JSON.stringify(messages[type])));
      assert.ok(result.ok, result.ok ? '' : result.detail);
      assert.equal(result.type, type);
      assert.deepEqual(result.message, messages[type]);
    });

    // Every field of every message: missing, or of the wrong type, is rejected and named.
    for (const field of Object.keys(messages[type])) {
      it(`rejects a ${type} without "${field}" or with a wrong-typed one, naming the field`, () => {
        const original = messages[type] as Record<string, unknown>;
        const optional = [
          'truncated',
          'suppressed',
          'spoolDepth',
          'inhibited',
          'acknowledged',
          'until',
          'digits',
          'detail',
          'labels',
          'target',
          'generation',
          'person',
          'blind',
        ];
        if (!optional.includes(field)) {
          const { [field]: _dropped, ...without } = original;
          const reason = rejectReason(subjectFor[type], without);
          assert.match(reason, field === 'v' ? /^unsupported_version/ : new RegExp(`^schema: .*${field}`));
        }
        const wrong =
          typeof original[field] === 'string'
            ? 12345
            : typeof original[field] === 'number'
              ? 'twelve'
              : 'not-an-object';
        const reason = rejectReason(subjectFor[type], { ...original, [field]: wrong });
        assert.match(reason, field === 'v' ? /^unsupported_version/ : new RegExp(`^schema: .*${field}`));
      });
    }
  }

  it('rejects malformed JSON, non-objects and unknown subjects', () => {
    assert.match(rejectReason(subjectFor.log, '{"v":1,'), /^malformed_json/);
    assert.match(rejectReason(subjectFor.log, '[1,2]'), /^schema: payload must be a JSON object/);
    assert.match(rejectReason(subjectFor.log, 'null'), /^schema/);
    assert.match(rejectReason('offhook.v1.events.web1.cpu', messages.log), /^unknown_subject/);
    assert.match(rejectReason('foo', messages.log), /^unknown_subject/);
  });

  it('rejects unknown schema versions', () => {
    assert.match(rejectReason(subjectFor.log, { ...messages.log, v: 2 }), /^unsupported_version: v: expected 1, got 2/);
  });

  it('rejects payloads over the size limit before parsing', () => {
    const huge = JSON.stringify({ ...messages.log, line: 'x'.repeat(MAX_PAYLOAD_BYTES) });
    assert.match(rejectReason(subjectFor.log, huge), /^too_large/);
  });

  it('rejects prototype-pollution keys anywhere in the payload', () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const text = JSON.stringify(messages.log)
        .replace('"labels"', `"${key}":{"polluted":true},"labels"`)
        .replace(/}$/, `,"x":{"${key}":1}}`);
      assert.match(rejectReason(subjectFor.log, text), /^forbidden_key/);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('refuses a forbidden key in a resource sample too, though a plain one is not searched for them', () => {
    const sample = (labels: Record<string, string>) => ({
      ...messages.resource,
      metrics: [{ name: 'offhook_filesystem_used_ratio', type: 'gauge', value: 0.5, labels }],
    });
    const plain = JSON.stringify(sample({ device: 'constructor', mountpoint: '/' }));
    assert.ok(decode(subjectFor.resource, plain).ok, 'a prototype word as a label value is fine');
    const cases = [
      JSON.stringify(sample({ constructor: 'x' })),
      JSON.stringify(sample({ prototype: 'x' })),
      JSON.stringify(sample({ constructor: 'x' })).replace('"constructor"', '"\\u0063onstructor"'),
      plain.replace('{"v":1', '{"__proto__":{"polluted":true},"v":1'),
      plain.replace('"labels"', '"prototype":1,"labels"'),
      plain.replace('"labels":{"device"', '"labels":{"\\u005f_proto__":"x","device"'),
    ];
    for (const text of cases) assert.match(rejectReason(subjectFor.resource, text), /^forbidden_key/, text);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('rejects a host in the payload that differs from the subject (an agent speaking for another host)', () => {
    assert.match(
      rejectReason(subjects.event('db1', 'log'), messages.log),
      /^subject_mismatch: host: subject says db1, payload says web1/,
    );
    assert.match(rejectReason(subjects.alert('warning', 'web1'), messages.alert), /^subject_mismatch: severity/);
    assert.match(rejectReason(subjects.ack('fedcba9876543210'), messages.ack), /^subject_mismatch: fingerprint/);
    assert.match(
      rejectReason(subjects.collectorHeartbeat('c2'), messages.collector_heartbeat),
      /^subject_mismatch: member: subject says c2, payload says c1/,
    );
    assert.match(
      rejectReason(subjects.gatewayHeartbeat('pbx2'), messages.gateway_heartbeat),
      /^subject_mismatch: host/,
    );
    const claimsTooMuch = { ...messages.collector_heartbeat, partitions: { count: 2, owned: [0, 2] } };
    assert.match(rejectReason(subjects.collectorHeartbeat('c1'), claimsTooMuch), /^schema: .*partitions\.owned/);
  });

  it('rejects label names that could pollute objects or break Prometheus', () => {
    assert.match(rejectReason(subjectFor.check, { ...messages.check, labels: { 'bad-name': 'x' } }), /^schema: labels/);
    assert.match(rejectReason(subjectFor.check, { ...messages.check, labels: { __name__: 'x' } }), /^schema: labels/);
  });

  it('checks every label rule on metric points, naming the label', () => {
    const withLabels = (labels: unknown) => ({
      ...messages.resource,
      metrics: [{ name: 'node_load1', type: 'gauge', value: 1, labels }],
    });
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'x']));
    const cases: [unknown, RegExp][] = [
      [{ 'bad-name': 'x' }, /metrics\[0\]\.labels\.bad-name: label names must match/],
      [{ __name__: 'x' }, /metrics\[0\]\.labels\.__name__: label names starting with "__" are reserved/],
      [{ device: 5 }, /metrics\[0\]\.labels\.device: expected a string, got number/],
      [{ device: 'x'.repeat(1025) }, /metrics\[0\]\.labels\.device: expected at most 1024 characters/],
      [many, /metrics\[0\]\.labels: at most 64 labels/],
      [['x'], /metrics\[0\]\.labels: expected an object of label names to string values/],
      ['x', /metrics\[0\]\.labels: expected an object/],
      [null, /metrics\[0\]\.labels: expected an object/],
    ];
    for (const [labels, expected] of cases)
      assert.match(rejectReason(subjectFor.resource, withLabels(labels)), expected);
    const fine = { device: 'sda1', mountpoint: '/', _x: '' };
    assert.ok(decode(subjectFor.resource, JSON.stringify(withLabels(fine))).ok);
    assert.ok(decode(subjectFor.resource, JSON.stringify(withLabels({}))).ok);
  });

  it('refuses a metric value that is not a finite number (NaN and Infinity come from code, not JSON)', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1']) {
      const sample = { ...messages.resource, metrics: [{ name: 'node_load1', type: 'gauge', value }] };
      assert.equal(ResourceSample.safeParse(sample).success, false, String(value));
    }
  });

  it('never throws on random bytes or random JSON', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = randomBytes(i % 300);
      const result = decode(Object.values(subjectFor)[i % 8]!, bytes);
      assert.equal(result.ok, false);
    }
    for (const value of [
      0,
      -1,
      true,
      'str',
      {},
      { v: 1 },
      { v: 1, id: '', host: '', ts: -5 },
      { v: 1, kind: 'log', metrics: 'x' },
    ]) {
      assert.equal(decode(subjectFor.resource, JSON.stringify(value)).ok, false);
    }
  });
});

describe('InboundValidator', () => {
  it('counts rejections in offhook_invalid_messages_total by subject family, reason; passes valid ones', async () => {
    const registry = createRegistry('test');
    const validator = new InboundValidator(registry, silentLogger());
    const messages = sampleMessages();
    assert.ok(validator.accept(subjectFor.log, JSON.stringify(messages.log)));
    for (let i = 0; i < 5; i++) assert.equal(validator.accept(subjectFor.log, '{oops'), null);
    assert.equal(validator.accept(subjects.heartbeat('db1'), JSON.stringify(messages.heartbeat)), null);
    const text = await registry.metrics();
    assert.match(
      text,
      /offhook_invalid_messages_total\{subject="events\.log",reason="malformed_json",process="test"\} 5/,
    );
    assert.match(
      text,
      /offhook_invalid_messages_total\{subject="heartbeat",reason="subject_mismatch",process="test"\} 1/,
    );
  });
});
