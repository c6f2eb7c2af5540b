import assert from 'node:assert/strict';
import { ResourceSample } from '../../shared/index.ts';
import { acceptResourceSample } from '../../shared/schemas/resource-fast.ts';
import { assertSameAsZod as sameAsZod, EDGE_VALUES, prng } from './fast-acceptor-cases.ts';

/*
 * The hand-written acceptor must say yes only when zod does, and then return what zod returns (key order included,
 * since both build new objects). These tests hold the two equal on edge values and on random mutations of a valid
 * sample; a deterministic generator keeps a failure reproducible from its case number.
 */

function validSample(): Record<string, unknown> {
  return {
    v: 1,
    id: 'web1-7',
    host: 'web1',
    ts: 1_700_000_000_000,
    seq: 7,
    epoch: 'e1',
    kind: 'resource',
    intervalMs: 10_000,
    metrics: [
      { name: 'node_load1', type: 'gauge', value: 0.5 },
      { name: 'offhook_filesystem_used_ratio', type: 'gauge', value: 0.4, labels: { device: '/dev/sda1', mp: '/' } },
      { name: 'node_context_switches_total', type: 'counter', value: 12_345 },
    ],
  };
}

/** Same outcome as zod: both refuse, or both accept with deep-equal values in the same key order. */
function assertSameAsZod(raw: unknown, label: string): 'accepted' | 'refused' | 'deferred' {
  return sameAsZod(ResourceSample, acceptResourceSample, raw, label);
}

const TOP_KEYS = ['v', 'id', 'host', 'ts', 'seq', 'epoch', 'kind', 'intervalMs', 'metrics', 'extra'];
const POINT_KEYS = ['name', 'type', 'value', 'labels', 'extra'];
const LABEL_KEYS = ['device', '__x', '_x', 'a-b', '1x', 'x'.repeat(100), 'x'.repeat(101), 'constructor'];

/** Sets, deletes or retypes one field somewhere in the sample (top level, a point, or a point's labels). */
function mutate(sample: Record<string, unknown>, random: () => number): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  // Earlier mutations may have replaced the array or its points; then only the top level is mutated.
  const metrics = Array.isArray(sample.metrics) ? sample.metrics : [];
  const points = metrics.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null);
  const where = points.length === 0 ? 0 : random();
  let target: Record<string, unknown>;
  let key: string;
  if (where < 0.4) [target, key] = [sample, pick(TOP_KEYS)];
  else if (where < 0.8) [target, key] = [pick(points), pick(POINT_KEYS)];
  else {
    const point = pick(points);
    if (typeof point.labels !== 'object' || point.labels === null) point.labels = {};
    [target, key] = [point.labels as Record<string, unknown>, pick(LABEL_KEYS)];
  }
  const action = random();
  if (action < 0.15) delete target[key];
  else if (action < 0.25 && key === 'metrics')
    sample.metrics = random() < 0.5 ? [] : [...metrics, structuredClone(pick(EDGE_VALUES))];
  // A copy: later mutations write into objects they put in place, and the edge values are shared between tests.
  else target[key] = structuredClone(pick(EDGE_VALUES));
}

describe('acceptResourceSample (the collector fast path) agrees with zod', () => {
  it('accepts a valid sample with and without the optional keys, returning what zod returns', () => {
    assert.equal(assertSameAsZod(validSample(), 'valid'), 'accepted');
    const withoutOptional = validSample();
    delete withoutOptional.epoch;
    (withoutOptional.metrics as Record<string, unknown>[]).forEach((point) => {
      delete point.labels;
    });
    assert.equal(assertSameAsZod(withoutOptional, 'no epoch, no labels'), 'accepted');
    const withExtras = { ...validSample(), extra: 1, metrics: [{ name: 'a', type: 'gauge', value: 1, more: true }] };
    assert.equal(assertSameAsZod(withExtras, 'unknown keys are stripped'), 'accepted');
    assert.equal(assertSameAsZod({ ...validSample(), metrics: [] }, 'no metrics'), 'accepted');
  });

  it('returns the input itself when it already is what zod returns, and a copy otherwise', () => {
    const agent = validSample();
    assert.equal(acceptResourceSample(agent), agent, 'keys in the schema order: no copy');
    const { v, ...rest } = validSample();
    const reordered = { ...rest, v };
    assert.notEqual(acceptResourceSample(reordered), reordered, 'another key order: copied, in zod order');
    assert.equal(assertSameAsZod(reordered, 'reordered'), 'accepted');
    const prototypeWord = validSample();
    (prototypeWord.metrics as { labels: Record<string, string> }[])[1]!.labels = { constructor: 'x' };
    const accepted = acceptResourceSample(prototypeWord);
    // decode() relies on this: only a sample returned as-is skips its search for forbidden keys.
    assert.ok(accepted && accepted !== prototypeWord, 'a label named constructor: copied');
    assert.equal(assertSameAsZod(prototypeWord, 'constructor label'), 'accepted');
  });

  it('agrees on every edge value in every field of the envelope and of a metric point', () => {
    for (const key of TOP_KEYS)
      for (const [i, value] of EDGE_VALUES.entries())
        assertSameAsZod({ ...validSample(), [key]: value }, `top-level ${key} = edge value #${i}`);
    for (const key of POINT_KEYS)
      for (const [i, value] of EDGE_VALUES.entries()) {
        const sample = validSample();
        (sample.metrics as Record<string, unknown>[])[1]![key] = value;
        assertSameAsZod(sample, `metric ${key} = edge value #${i}`);
      }
    for (const key of LABEL_KEYS)
      for (const [i, value] of EDGE_VALUES.entries()) {
        const sample = validSample();
        (sample.metrics as { labels: Record<string, unknown> }[])[1]!.labels[key] = value;
        assertSameAsZod(sample, `label ${key} = edge value #${i}`);
      }
  });

  it('agrees on metric counts at the 5000 limit and on non-object inputs', () => {
    const point = { name: 'a', type: 'gauge', value: 1 };
    for (const count of [5000, 5001])
      assertSameAsZod({ ...validSample(), metrics: Array.from({ length: count }, () => ({ ...point })) }, `${count}`);
    for (const [i, value] of EDGE_VALUES.entries()) assertSameAsZod(value, `whole message = edge value #${i}`);
  });

  it('never accepts what zod refuses over 3,000 random mutations (1 to 4 changes each)', () => {
    const random = prng(17);
    const outcomes = { accepted: 0, refused: 0, deferred: 0 };
    for (let n = 0; n < 3000; n++) {
      const sample = validSample();
      const changes = 1 + Math.floor(random() * 4);
      for (let c = 0; c < changes; c++) mutate(sample, random);
      outcomes[assertSameAsZod(sample, `mutation case ${n}`)] += 1;
    }
    // Both outcomes must be exercised, or the mutations test nothing; deferring a valid sample to zod is correct
    // but slow, so none should be deferred.
    assert.ok(outcomes.accepted > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
    assert.equal(outcomes.deferred, 0, JSON.stringify(outcomes));
  });
});
