import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summary } from '../../bench/summary.ts';

interface Row {
  name: string;
  part?: string;
}

/** A saved report as bench/lib.ts writes it; every row has a baseline, so every row may be shown. */
function save(dir: string, bench: string, date: string, rows: Row[], parts?: string[]): void {
  const saved = rows.map((row) => ({ ...row, value: 2, unit: 'ms', baseline: { name: 'peer', value: 1 } }));
  const report = {
    machine: 'test',
    date: `2026-11-29T${date}:00.000Z`,
    bench,
    ...(parts ? { parts } : {}),
    rows: saved,
  };
  writeFileSync(join(dir, `${bench}.json`), JSON.stringify(report));
}

/** The summary's rows as "bench: measurement @ time", in its order. */
function shown(dir: string): string[] {
  const text = summary(dir);
  assert.equal(readFileSync(join(dir, 'summary.md'), 'utf8'), `${text}\n`);
  return text
    .split('\n')
    .slice(5)
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map((cells) => `${cells[1]}: ${cells[2]} @ ${cells[7]?.slice(11)}`);
}

describe('bench summary: only what the newest run of each part of a bench still measures', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-summary-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('old files (no parts recorded): a newer partial run drops the rows of its part it lacks, keeps the rest', () => {
    save(dir, 'e2e', '04:04', [
      { name: 'breach p50 (30 trials)' },
      { name: 'HTTP down p50, retry_interval 250ms (the previous default)' },
      { name: 'alert -> off hook p50' },
      { name: 'log line p50' },
      { name: 'collector events/s' },
      { name: 'agent RSS' },
    ]);
    save(dir, 'e2e-latency', '09:23', [
      { name: 'breach p50 (60 trials)' },
      { name: 'HTTP down p50, connection_watch: false' },
      { name: 'alert -> off hook p50' },
    ]);
    save(dir, 'e2e-log', '05:02', [{ name: 'log line p50' }]);
    assert.deepEqual(shown(dir), [
      'e2e-latency: breach p50 (60 trials) @ 09:23',
      'e2e-latency: HTTP down p50, connection_watch: false @ 09:23',
      'e2e-latency: alert -> off hook p50 @ 09:23',
      'e2e-log: log line p50 @ 05:02',
      // Parts no newer run measured, as far as can be told (neither row's part is known): they stay.
      'e2e: collector events/s @ 04:04',
      'e2e: agent RSS @ 04:04',
    ]);
  });

  it('recorded parts: a row whose part a newer run measured without it is gone; a full run replaces every part', () => {
    save(
      dir,
      'agent',
      '08:00',
      [
        { name: 'sample wall time', part: 'sample' },
        { name: 'log lines/s', part: 'log' },
        { name: 'log lines/s, landmine', part: 'log' },
        { name: 'agent RSS', part: 'footprint' },
      ],
      ['sample', 'log', 'footprint'],
    );
    save(dir, 'agent-footprint-log', '09:00', [{ name: 'log lines/s', part: 'log' }], ['footprint', 'log']);
    assert.deepEqual(shown(dir), ['agent-footprint-log: log lines/s @ 09:00', 'agent: sample wall time @ 08:00']);
    save(dir, 'agent', '10:00', [{ name: 'sample wall time', part: 'sample' }], ['sample', 'log', 'footprint']);
    assert.deepEqual(shown(dir), ['agent: sample wall time @ 10:00']);
  });

  it('a bench whose name has a dash but no parts is its own bench; rows of one report never hide each other', () => {
    save(dir, 'group-load', '01:07', [{ name: 'failover under load' }]);
    save(dir, 'group', '05:01', [{ name: 'events/s, 3 collectors' }, { name: 'events/s, 3 collectors (R3)' }]);
    assert.deepEqual(shown(dir), [
      'group: events/s, 3 collectors @ 05:01',
      'group: events/s, 3 collectors (R3) @ 05:01',
      'group-load: failover under load @ 01:07',
    ]);
  });
});
