import assert from 'node:assert/strict';
import { hostToken, InvalidHostError, Subjects } from '../../shared/index.ts';

describe('subjects', () => {
  const subjects = new Subjects();

  it('maps host names to tokens: lower case, dots to "_", trailing dot dropped', () => {
    assert.equal(hostToken('web1'), 'web1');
    assert.equal(hostToken('Web1.Example.COM'), 'web1_example_com');
    assert.equal(hostToken('db-01.dc2.example.org.'), 'db-01_dc2_example_org');
  });

  const hostile = [
    '',
    ' ',
    'a b',
    'web1.*',
    'web1>',
    'a.>',
    'x\ny',
    '../etc',
    'wéb',
    'a/b',
    'a\u0000b',
    'x'.repeat(129),
    `${'web1..'.repeat(1)}*`,
  ];
  for (const name of hostile) {
    it(`refuses hostile host name ${JSON.stringify(name.slice(0, 20))}`, () => {
      assert.throws(() => hostToken(name), InvalidHostError);
    });
  }

  it('refuses raw names in builders so wildcards never reach a subject', () => {
    assert.throws(() => subjects.event('web1.example.com', 'log'), InvalidHostError);
    assert.throws(() => subjects.heartbeat('*'), InvalidHostError);
    assert.throws(() => subjects.ack('not-a-fingerprint'), /16 hex digits/);
  });

  it('builds and parses every subject', () => {
    assert.equal(subjects.event('web1', 'resource'), 'offhook.v1.events.web1.resource');
    assert.deepEqual(subjects.parse('offhook.v1.events.web1.log'), { type: 'event', host: 'web1', kind: 'log' });
    assert.deepEqual(subjects.parse(subjects.heartbeat('db_1')), { type: 'heartbeat', host: 'db_1' });
    assert.deepEqual(subjects.parse(subjects.alert('critical', 'web1')), {
      type: 'alert',
      severity: 'critical',
      host: 'web1',
    });
    assert.deepEqual(subjects.parse(subjects.ack('0123456789abcdef')), {
      type: 'ack',
      fingerprint: '0123456789abcdef',
    });
    assert.deepEqual(subjects.parse(subjects.call('0123456789abcdef')), {
      type: 'call',
      fingerprint: '0123456789abcdef',
    });
    assert.deepEqual(subjects.parse(subjects.fallback('pbx')), { type: 'fallback', host: 'pbx' });
    assert.equal(subjects.collectorHeartbeat('c1'), 'offhook.v1.collector.heartbeat.c1');
    assert.deepEqual(subjects.parse(subjects.collectorHeartbeat('c1')), { type: 'collector_heartbeat', member: 'c1' });
    assert.equal(subjects.gatewayHeartbeat('pbx'), 'offhook.v1.gateway.heartbeat.pbx');
    assert.deepEqual(subjects.parse(subjects.gatewayHeartbeat('pbx')), { type: 'gateway_heartbeat', host: 'pbx' });
    // A gateway event of a gateway named "heartbeat" is still an event: the heartbeat has one token more.
    assert.deepEqual(subjects.parse(subjects.gatewayEvent('heartbeat')), { type: 'gateway', host: 'heartbeat' });
  });

  it('parses nothing foreign, malformed or of another prefix', () => {
    for (const subject of [
      'other.v1.events.web1.log',
      'offhook.v2.events.web1.log',
      'offhook.v1.events.web1.cpu',
      'offhook.v1.events.web1.log.x',
      'offhook.v1.alerts.fatal.web1',
      'offhook.v1.ack.XYZ',
      'offhook.v1.heartbeat',
      'offhook.v1.heartbeat.a.b',
      'offhook',
      'offhook.v1.collector.heartbeat',
      'offhook.v1.collector.beat.c1',
      'offhook.v1.collector.heartbeat.c.1',
      'offhook.v1.gateway.heartbeat.a.b',
    ]) {
      assert.equal(subjects.parse(subject), null, subject);
    }
  });

  it('honours a custom prefix and rejects a prefix that is not one token', () => {
    const custom = new Subjects('acme');
    assert.equal(custom.allEvents, 'acme.v1.events.>');
    assert.equal(custom.parse('offhook.v1.heartbeat.web1'), null);
    assert.throws(() => new Subjects('a.b'), /one NATS token/);
  });
});
