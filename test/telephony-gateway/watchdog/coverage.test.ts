import assert from 'node:assert/strict';
import { newId, SCHEMA_VERSION, type CollectorHeartbeat, type PartitionClaim } from '../../../shared/index.ts';
import { CollectorCoverage } from '../../../telephony-gateway/watchdog/coverage.ts';
import { blindSummary, spokenDuration } from '../../../telephony-gateway/watchdog/wording.ts';

const SILENCE = 60_000;

function beat(member: string, partitions: PartitionClaim): CollectorHeartbeat {
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host: member,
    ts: 0,
    kind: 'collector_heartbeat',
    member,
    collectorVersion: '0.1.0',
    uptimeSec: 1,
    intervalMs: 10_000,
    partitions,
  };
}

describe('gateway watchdog: which partitions a live collector covers', () => {
  it('counts the gateway start as the first claim, so a collector that is already dead is noticed', () => {
    const coverage = new CollectorCoverage(1_000);
    assert.equal(coverage.uncovered(1_000 + SILENCE, SILENCE), null);
    assert.deepEqual(coverage.uncovered(1_001 + SILENCE, SILENCE), { partitions: [0], count: 1, since: 1_000 });
  });

  it('needs every partition claimed: one member of a group of four going quiet uncovers its partitions only', () => {
    const coverage = new CollectorCoverage(0);
    coverage.onHeartbeat(beat('c1', { count: 4, owned: [0, 1] }), 1_000);
    coverage.onHeartbeat(beat('c2', { count: 4, owned: [2, 3] }), 1_000);
    // c1 keeps beating, c2 stops.
    coverage.onHeartbeat(beat('c1', { count: 4, owned: [0, 1] }), 50_000);
    assert.equal(coverage.uncovered(61_000, SILENCE), null);
    assert.deepEqual(coverage.uncovered(61_001, SILENCE), { partitions: [2, 3], count: 4, since: 1_000 });
    assert.equal(coverage.liveMembers(61_001, SILENCE), 1);
    // c1 takes over c2's partitions (a rebalance): covered again.
    coverage.onHeartbeat(beat('c1', { count: 4, owned: [0, 1, 2, 3] }), 62_000);
    assert.equal(coverage.uncovered(62_000, SILENCE), null);
  });

  it('gives partitions added by a resize a full silence of grace, and forgets removed ones', () => {
    const coverage = new CollectorCoverage(0);
    coverage.onHeartbeat(beat('c1', { count: 1, owned: [0] }), 10_000);
    coverage.onHeartbeat(beat('c1', { count: 3, owned: [0] }), 20_000);
    assert.equal(coverage.uncovered(80_000, SILENCE), null);
    assert.deepEqual(coverage.uncovered(80_001, SILENCE)?.partitions, [0, 1, 2]);
    coverage.onHeartbeat(beat('c1', { count: 1, owned: [0] }), 80_002);
    assert.equal(coverage.uncovered(80_002, SILENCE), null);
    assert.equal(coverage.oldestClaimAge(80_002), 0);
  });
});

describe('gateway watchdog: what is said', () => {
  it('speaks durations in whole minutes', () => {
    assert.deepEqual([59_999, 60_000, 150_000, 7_200_000, 7_500_000].map(spokenDuration), [
      'less than a minute',
      '1 minute',
      '2 minutes',
      '2 hours',
      '2 hours and 5 minutes',
    ]);
  });

  it('names each reason; partitions only for a collector group', () => {
    const now = 10 * 60_000;
    const single = blindSummary([{ kind: 'collector', since: now - 120_000, partitions: [0], count: 1 }], now);
    assert.equal(single, 'offhook is blind: no collector for 2 minutes');
    const group = { kind: 'collector' as const, since: 0, partitions: [1, 3], count: 4 };
    assert.equal(
      blindSummary([group, { kind: 'canary', since: now - 240_000 }], now),
      'offhook is blind: no collector for 10 minutes on partitions 1 and 3 of 4; ' +
        'and no test alert came through for 4 minutes, so the alert path from the rules to the phone is broken',
    );
  });
});
