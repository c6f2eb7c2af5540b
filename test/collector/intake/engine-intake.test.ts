import assert from 'node:assert/strict';
import { CollectorConfig } from '../../../collector/config.ts';
import { intakeLimits } from '../../../collector/intake/config.ts';
import { AlertEngine } from '../../../collector/alerts/engine.ts';
import { buildRules } from '../../../collector/alerts/engine-rules.ts';
import { ManualClock, silentLogger, SCHEMA_VERSION, type CheckResult } from '../../../shared/index.ts';
import { MemoryOutput } from '../alerts/engine-harness.ts';

const check = { name: 'svc', kind: 'check', max_attempts: 1 };

function setup(intake: Record<string, unknown> = {}) {
  const config = CollectorConfig.parse({ rules: [check], intake });
  const clock = new ManualClock(Date.UTC(2026, 10, 28, 12));
  const output = new MemoryOutput();
  const rejected: string[] = [];
  let duplicates = 0;
  const make = () =>
    new AlertEngine({
      rules: buildRules(config.rules, config.defaults),
      clock,
      output,
      logger: silentLogger(),
      intake: intakeLimits(config.intake),
      observer: {
        rejectedEvent: (reason, e) => void rejected.push(`${reason} ${e.host}`),
        duplicateEvent: () => void duplicates++,
      },
    });
  return { engine: make(), make, clock, output, rejected, duplicates: () => duplicates };
}

function result(
  host: string,
  epoch: string | undefined,
  seq: number,
  ts: number,
  status: CheckResult['status'],
): CheckResult {
  return {
    v: SCHEMA_VERSION,
    id: `${host}-${epoch}-${seq}`,
    host,
    ts,
    seq,
    ...(epoch ? { epoch } : {}),
    kind: 'check',
    check: 'svc',
    checkKind: 'tcp',
    status,
    message: status,
    latencyMs: 1,
  };
}

describe('collector intake: the engine refuses what an event may not claim', () => {
  it('finding 2: a spoofed event (seq 2^53-1, ts in 2100) is refused and the real events still alert', () => {
    const { engine, clock, output, rejected } = setup();
    const now = clock.now();
    assert.equal(engine.handleEvent(result('victim', 'real', 1, now, 'ok'), 1), true);
    const spoof = result('victim', 'real', Number.MAX_SAFE_INTEGER, Date.UTC(2100, 0, 1), 'ok');
    assert.equal(engine.handleEvent(spoof, 2), false);
    assert.equal(engine.handleEvent({ ...spoof, ts: now, epoch: 'spoof' }, 3), false);
    assert.equal(engine.handleEvent({ ...spoof, ts: now }, 4), false);
    assert.deepEqual(rejected, ['ts_future victim', 'seq_jump victim', 'seq_jump victim']);
    assert.equal(engine.handleEvent(result('victim', 'real', 2, now, 'critical'), 5), true);
    assert.deepEqual(output.take(), ['firing victim svc critical g1']);
    assert.equal(engine.state.streamSeq, 5, 'refused events are passed over, so the checkpoint moves on');
  });

  it('max_clock_skew and max_seq_jump come from collector.yaml intake:', () => {
    const { engine, clock, rejected } = setup({ max_clock_skew: '10s', max_seq_jump: 5000 });
    const now = clock.now();
    assert.equal(engine.handleEvent(result('h', 'e', 1, now + 10_001, 'ok'), 1), false);
    assert.equal(engine.handleEvent(result('h', 'e', 1, now + 10_000, 'ok'), 2), true);
    assert.equal(engine.handleEvent(result('h', 'e', 5002, now, 'ok'), 3), false);
    assert.equal(engine.handleEvent(result('h', 'e', 5001, now, 'ok'), 4), true);
    assert.deepEqual(rejected, ['ts_future h', 'seq_jump h']);
  });

  it('the positions survive a checkpoint: a restarted engine still knows what it has seen', () => {
    const first = setup();
    const now = first.clock.now();
    first.engine.handleEvent(result('web1', 'e1', 1, now, 'ok'), 1);
    first.engine.handleEvent(result('web1', 'e1', 2, now, 'ok'), 2);
    const checkpoint = JSON.parse(JSON.stringify(first.engine.state.snapshot(first.engine.rules)));
    const restarted = first.make();
    restarted.load([], checkpoint);
    // The same events stored twice under new stream sequences (older than the duplicate window).
    assert.equal(restarted.handleEvent(result('web1', 'e1', 2, now, 'critical'), 3), false);
    assert.equal(first.duplicates(), 1);
    assert.equal(restarted.handleEvent(result('web1', 'e1', 3, now, 'critical'), 4), true);
  });

  it('arrival time, not the collector clock, is the reference: a replay long after decides as live did', () => {
    const { engine, clock } = setup();
    const storedAt = clock.now();
    clock.advance(30 * 86_400_000);
    assert.equal(engine.handleEvent(result('web1', 'e', 1, storedAt, 'ok'), 1, storedAt), true);
    assert.equal(
      engine.handleEvent(result('web1', 'e', 2, storedAt + 3_600_000, 'ok'), 2, storedAt),
      false,
      'ts_future at arrival',
    );
  });
});
