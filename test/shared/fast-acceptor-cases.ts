/*
 * Cases shared by the tests that hold a hand-written acceptor (shared/schemas/*-fast.ts) equal to its zod schema:
 * edge values for any field, a deterministic PRNG so a failing mutation case can be replayed from its number, and the
 * comparison itself.
 */
import assert from 'node:assert/strict';

/** Same outcome as zod: both refuse, or both accept with deep-equal values in the same key order. */
export function assertSameAsZod(
  schema: { safeParse(raw: unknown): { success: true; data: unknown } | { success: false } },
  accept: (raw: unknown) => unknown,
  raw: unknown,
  label: string,
): 'accepted' | 'refused' | 'deferred' {
  const zod = schema.safeParse(raw);
  const fast = accept(raw);
  if (fast === undefined) return zod.success ? 'deferred' : 'refused';
  assert.ok(zod.success, `${label}: the fast path accepted what zod refuses: ${JSON.stringify(raw)?.slice(0, 400)}`);
  assert.deepStrictEqual(fast, zod.data, label);
  assert.equal(JSON.stringify(fast), JSON.stringify(zod.data), `${label}: key order`);
  return 'accepted';
}

/** Shared by several tests: a test that writes into one must write into a copy (structuredClone). */
export const EDGE_VALUES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  0.5,
  99,
  100,
  3_600_000,
  3_600_001,
  2 ** 53 - 1,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -Number.MAX_VALUE,
  '',
  'resource',
  'log',
  'info',
  'warning',
  'critical',
  'z'.repeat(4096),
  'z'.repeat(4097),
  1_000_000_000,
  1_000_000_001,
  'gauge',
  'counter',
  'web1',
  'web.1',
  '__x',
  '_x',
  '1abc',
  'a:b',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(200),
  'x'.repeat(201),
  'y'.repeat(1024),
  'y'.repeat(1025),
  [],
  [1],
  {},
  { device: 'sda' },
  { __proto__: 'x' },
  { a: 1 },
  { 'a-b': 'x' },
  Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`l${i}`, 'v'])),
  Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])),
];

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
