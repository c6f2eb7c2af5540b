import assert from 'node:assert/strict';
import { AgentConfig } from '../../agent/config.ts';
import { createRegistry, decode, InboundValidator, silentLogger, Subjects } from '../../shared/index.ts';
import { sampleMessages } from '../fixtures/messages.ts';

const subjects = new Subjects();

function reason(subject: string, payload: unknown): string {
  const result = decode(subject, JSON.stringify(payload));
  return result.ok ? 'ok' : `${result.reason}: ${result.detail}`;
}

describe('agent message bounds (the same as the agent config)', () => {
  const { heartbeat, resource, check, log } = sampleMessages();
  const hb = subjects.heartbeat('web1');

  it('finding 3: a heartbeat with intervalMs 1 is invalid (schema), naming the field; 100ms..1h is valid', () => {
    assert.match(reason(hb, { ...heartbeat, intervalMs: 1 }), /^schema: .*intervalMs.*at least 100/);
    assert.match(reason(hb, { ...heartbeat, intervalMs: 3_600_001 }), /^schema: .*intervalMs.*at most/);
    assert.equal(reason(hb, { ...heartbeat, intervalMs: 100 }), 'ok');
    assert.equal(reason(hb, { ...heartbeat, intervalMs: 3_600_000 }), 'ok');
  });

  it('bounds every other number an agent message carries', () => {
    assert.match(reason(hb, { ...heartbeat, spoolDepth: 2e9 }), /^schema: .*spoolDepth/);
    assert.match(reason(hb, { ...heartbeat, uptimeSec: 1e12 }), /^schema: .*uptimeSec/);
    assert.match(reason(hb, { ...heartbeat, seq: 2 ** 60 }), /^schema: .*seq/);
    assert.match(reason(subjects.event('web1', 'resource'), { ...resource, intervalMs: 1 }), /^schema: .*intervalMs/);
    assert.match(reason(subjects.event('web1', 'check'), { ...check, latencyMs: 1e12 }), /^schema: .*latencyMs/);
    assert.match(reason(subjects.event('web1', 'log'), { ...log, suppressed: 2e9 }), /^schema: .*suppressed/);
  });

  it('epoch is optional (older agents) and must be a short token when present', () => {
    assert.equal(reason(hb, heartbeat), 'ok');
    assert.equal(reason(hb, { ...heartbeat, epoch: 'mabc-0123456789ab' }), 'ok');
    assert.match(reason(subjects.event('web1', 'check'), { ...check, epoch: 'a.b' }), /^schema: .*epoch/);
    assert.match(reason(subjects.event('web1', 'check'), { ...check, epoch: 'x'.repeat(65) }), /^schema: .*epoch/);
  });

  it('counts the bad heartbeat in offhook_invalid_messages_total{subject="heartbeat",reason="schema"}', async () => {
    const registry = createRegistry('test');
    const validator = new InboundValidator(registry, silentLogger(), subjects);
    assert.equal(validator.accept(hb, JSON.stringify({ ...heartbeat, intervalMs: 1 })), null);
    const text = await registry.metrics();
    assert.match(text, /offhook_invalid_messages_total\{subject="heartbeat",reason="schema"[^}]*\} 1/);
  });

  it('the agent config holds heartbeat_interval and resources.interval to the same 100ms..1h', () => {
    const base = { nats: { servers: ['nats://127.0.0.1:4222'] } };
    assert.equal(AgentConfig.safeParse({ ...base, heartbeat_interval: '50ms' }).success, false);
    assert.equal(AgentConfig.safeParse({ ...base, heartbeat_interval: '2h' }).success, false);
    assert.equal(AgentConfig.safeParse({ ...base, resources: { interval: '2h' } }).success, false);
    assert.equal(AgentConfig.parse({ ...base, heartbeat_interval: '1h' }).heartbeat_interval, 3_600_000);
  });
});
