import assert from 'node:assert/strict';
import { LogMatch } from '../../shared/index.ts';
import { acceptLogMatch } from '../../shared/schemas/log-fast.ts';
import { assertSameAsZod as sameAsZod, EDGE_VALUES, prng } from './fast-acceptor-cases.ts';

/*
 * The hand-written log event acceptor must say yes only when zod does, and then return what zod returns (defaults
 * filled in, unknown keys stripped, key order included). Edge values in every field and random mutations of a valid
 * event hold the two equal; a deterministic generator keeps a failure reproducible from its case number.
 */

function validEvent(): Record<string, unknown> {
  return {
    v: 1,
    id: 'log-0123456789abcdef0123456789abcdef01234567',
    host: 'web1',
    ts: 1_700_000_000_000,
    seq: 7,
    epoch: 'mk2x1-0a1b2c3d4e5f',
    kind: 'log',
    file: '/var/log/app.log',
    rule: 'fatal',
    severity: 'critical',
    line: '2026-11-25T12:00:00Z app[7]: FATAL out of widgets',
    truncated: false,
    inode: 1234,
    offset: 100,
    suppressed: 0,
    labels: { trial: '1' },
  };
}

function assertSameAsZod(raw: unknown, label: string): 'accepted' | 'refused' | 'deferred' {
  return sameAsZod(LogMatch, acceptLogMatch, raw, label);
}

const KEYS = Object.keys(validEvent()).concat('extra');
/** What JSON can hold: a key set to undefined is deferred to zod on purpose (the test above). */
const JSON_VALUES = EDGE_VALUES.filter((value) => value !== undefined);
const LABEL_KEYS = ['trial', '__x', '_x', 'a-b', '1x', 'x'.repeat(100), 'x'.repeat(101), 'constructor'];

/** Sets, deletes or retypes one field of the event or of its labels. */
function mutate(event: Record<string, unknown>, random: () => number): void {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let target = event;
  let key = pick(KEYS);
  if (random() < 0.3) {
    if (typeof event.labels !== 'object' || event.labels === null) event.labels = {};
    [target, key] = [event.labels as Record<string, unknown>, pick(LABEL_KEYS)];
  }
  if (random() < 0.2) delete target[key];
  // A copy: later mutations write into objects they put in place, and the edge values are shared between tests.
  else target[key] = structuredClone(pick(JSON_VALUES));
}

describe('acceptLogMatch (the log event fast path) agrees with zod', () => {
  it('accepts a valid event with and without the optional and defaulted keys, returning what zod returns', () => {
    assert.equal(assertSameAsZod(validEvent(), 'valid'), 'accepted');
    const bare = validEvent();
    for (const key of ['epoch', 'labels', 'truncated', 'suppressed']) delete bare[key];
    assert.equal(assertSameAsZod(bare, 'no optional keys: defaults filled in'), 'accepted');
    assert.equal(assertSameAsZod({ ...validEvent(), extra: 1 }, 'unknown keys are stripped'), 'accepted');
    const { v, ...rest } = validEvent();
    assert.equal(assertSameAsZod({ ...rest, v }, 'another key order: zod order'), 'accepted');
    assert.equal(assertSameAsZod({ ...validEvent(), labels: { constructor: 'x' } }, 'constructor label'), 'accepted');
  });

  it('leaves a key that is present but undefined to zod', () => {
    for (const key of Object.keys(validEvent()))
      assert.equal(acceptLogMatch({ ...validEvent(), [key]: undefined }), undefined, key);
  });

  it('agrees on every edge value in every field and every label, and on non-object inputs', () => {
    for (const key of KEYS)
      for (const [i, value] of EDGE_VALUES.entries())
        assertSameAsZod({ ...validEvent(), [key]: value }, `${key} = edge value #${i}`);
    for (const key of LABEL_KEYS)
      for (const [i, value] of EDGE_VALUES.entries())
        assertSameAsZod({ ...validEvent(), labels: { [key]: value } }, `label ${key} = edge value #${i}`);
    for (const [i, value] of EDGE_VALUES.entries()) assertSameAsZod(value, `whole message = edge value #${i}`);
  });

  it('never accepts what zod refuses over 3,000 random mutations (1 to 4 changes each)', () => {
    const random = prng(29);
    const outcomes = { accepted: 0, refused: 0, deferred: 0 };
    for (let n = 0; n < 3000; n++) {
      const event = validEvent();
      const changes = 1 + Math.floor(random() * 4);
      for (let c = 0; c < changes; c++) mutate(event, random);
      outcomes[assertSameAsZod(event, `mutation case ${n}`)] += 1;
    }
    // Both outcomes must be exercised, or the mutations test nothing; a valid event deferred to zod is correct but
    // slow, so none should be.
    assert.ok(outcomes.accepted > 100 && outcomes.refused > 100, JSON.stringify(outcomes));
    assert.equal(outcomes.deferred, 0, JSON.stringify(outcomes));
  });
});
