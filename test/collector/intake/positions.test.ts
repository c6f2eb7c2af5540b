import assert from 'node:assert/strict';
import { AgentPositions, LEGACY_EPOCH } from '../../../collector/intake/positions.ts';
import { DEFAULT_INTAKE_LIMITS, IntakeGate } from '../../../collector/intake/gate.ts';

const LIMITS = { maxSeqJump: 1000, epochsPerHost: 4 };
const HUGE = Number.MAX_SAFE_INTEGER;

describe('collector intake: per-epoch agent positions', () => {
  it('accepts each seq once in order and refuses a replay', () => {
    const p = new AgentPositions(LIMITS);
    assert.equal(p.admit('web1', 'a', 1, 10, 1), 'accept');
    assert.equal(p.admit('web1', 'a', 2, 11, 2), 'accept');
    assert.equal(p.admit('web1', 'a', 2, 11, 3), 'duplicate');
    assert.equal(p.admit('web1', 'a', 1, 99, 4), 'duplicate', 'a newer ts does not reopen an epoch');
  });

  it('refuses a step beyond max_seq_jump and leaves the position where it was', () => {
    const p = new AgentPositions(LIMITS);
    p.admit('web1', 'a', 5, 10, 1);
    assert.equal(p.admit('web1', 'a', 5 + 1001, 11, 2), 'seq_jump');
    assert.equal(p.admit('web1', 'a', HUGE, 11, 3), 'seq_jump');
    assert.equal(p.admit('web1', 'a', 6, 12, 4), 'accept', 'the real next event still counts');
    assert.equal(p.admit('web1', 'a', 6 + 1000, 13, 5), 'accept', 'a gap of exactly the bound (spool drop) is fine');
  });

  it('a spoofed fresh epoch with a huge seq neither enters nor blocks the real epoch', () => {
    const p = new AgentPositions(LIMITS);
    p.admit('victim', 'real', 1, 10, 1);
    assert.equal(p.admit('victim', 'spoof', HUGE, 11, 2), 'seq_jump');
    assert.equal(p.admit('victim', 'spoof2', 1000, 11, 3), 'accept', 'a new epoch may start within the bound');
    assert.equal(p.admit('victim', 'real', 2, 12, 4), 'accept');
    assert.deepEqual(
      p.hosts.get('victim')!.map((x) => [x.epoch, x.seq]),
      [
        ['real', 2],
        ['spoof2', 1000],
      ],
    );
  });

  it('a burst of spoofed epochs evicts each other, not the epoch with the long history', () => {
    const p = new AgentPositions(LIMITS);
    for (let seq = 1; seq <= 50; seq++) p.admit('victim', 'real', seq, seq, seq);
    for (let i = 0; i < 20; i++) assert.equal(p.admit('victim', `spoof${i}`, 1, 60, 100 + i), 'accept');
    const epochs = p.hosts.get('victim')!.map((x) => x.epoch);
    assert.equal(epochs.length, 4);
    assert.ok(epochs.includes('real'));
    assert.equal(p.admit('victim', 'real', 50, 70, 200), 'duplicate', 'its position is intact');
    assert.equal(p.admit('victim', 'real', 51, 70, 201), 'accept');
  });

  it("after an agent restart in a new epoch, the old epoch's spooled events are taken once, then the new one's", () => {
    const p = new AgentPositions(LIMITS);
    for (let seq = 1; seq <= 3; seq++) p.admit('web1', 'old', seq, seq, seq);
    // The restarted agent drains its spool (old 4, 5; 3 again because its ack was lost) before the new epoch.
    assert.deepEqual(
      [4, 3, 5].map((seq, i) => p.admit('web1', 'old', seq, 10, 10 + i)),
      ['accept', 'duplicate', 'accept'],
    );
    assert.deepEqual(
      [1, 2, 2].map((seq, i) => p.admit('web1', 'new', seq, 20, 20 + i)),
      ['accept', 'accept', 'duplicate'],
    );
    assert.equal(p.admit('web1', 'old', 5, 10, 30), 'duplicate', 'a late redelivery of the old epoch is still known');
  });

  it('a host never seen takes any first seq (a collector that lost its checkpoint follows old numberings)', () => {
    const p = new AgentPositions(LIMITS);
    assert.equal(p.admit('db1', 'a', 5_000_000, 10, 1), 'accept');
    assert.equal(p.admit('db1', 'a', 5_000_001, 11, 2), 'accept');
  });

  it('messages without an epoch keep the old rule: a lower seq with a newer ts is a restarted numbering', () => {
    const p = new AgentPositions(LIMITS);
    assert.equal(p.admit('old1', LEGACY_EPOCH, 500, 10, 1), 'accept');
    assert.equal(p.admit('old1', LEGACY_EPOCH, 500, 10, 2), 'duplicate');
    assert.equal(p.admit('old1', LEGACY_EPOCH, 1, 20, 3), 'accept');
    assert.equal(p.admit('old1', LEGACY_EPOCH, 1, 20, 4), 'duplicate');
  });

  it('snapshot and restore keep every position; a checkpoint from before epochs becomes the legacy position', () => {
    const p = new AgentPositions(LIMITS);
    p.admit('web1', 'a', 7, 10, 1);
    p.admit('web1', 'b', 3, 11, 2);
    const copy = new AgentPositions(LIMITS);
    copy.restore(JSON.parse(JSON.stringify(p.snapshot())));
    assert.equal(copy.admit('web1', 'a', 7, 12, 3), 'duplicate');
    assert.equal(copy.admit('web1', 'b', 4, 12, 4), 'accept');

    const migrated = new AgentPositions(LIMITS);
    migrated.restore(undefined, { web1: { seq: 40, ts: 100 }, broken: { seq: 'x' } });
    assert.equal(migrated.admit('web1', LEGACY_EPOCH, 40, 100, 1), 'duplicate');
    assert.equal(migrated.admit('web1', 'fresh', 1, 200, 2), 'accept', 'the upgraded agent starts a new epoch at 1');
    assert.equal(migrated.hosts.has('broken'), false);
  });
});

describe('collector intake: timestamp bounds', () => {
  const gate = (): IntakeGate =>
    new IntakeGate({ ...DEFAULT_INTAKE_LIMITS, maxClockSkewMs: 300_000, maxEventAgeMs: 86_400_000 });
  const arrivedAt = Date.UTC(2026, 10, 28, 12);

  it('refuses ts further ahead of its arrival than max_clock_skew, without touching the position', () => {
    const g = gate();
    const year2100 = Date.UTC(2100, 0, 1);
    assert.equal(g.admit({ host: 'victim', epoch: 'a', seq: HUGE, ts: year2100 }, 1, arrivedAt), 'ts_future');
    assert.equal(g.admit({ host: 'victim', epoch: 'a', seq: 1, ts: arrivedAt + 300_001 }, 2, arrivedAt), 'ts_future');
    assert.equal(g.positions.hosts.size, 0);
    assert.equal(g.admit({ host: 'victim', epoch: 'a', seq: 1, ts: arrivedAt + 300_000 }, 3, arrivedAt), 'accept');
  });

  it('refuses ts older than max_event_age at arrival, and takes a spooled event within it', () => {
    const g = gate();
    assert.equal(g.admit({ host: 'web1', seq: 1, ts: arrivedAt - 86_400_001 }, 1, arrivedAt), 'ts_past');
    assert.equal(g.admit({ host: 'web1', seq: 1, ts: arrivedAt - 3_600_000 }, 2, arrivedAt), 'accept');
  });
});
