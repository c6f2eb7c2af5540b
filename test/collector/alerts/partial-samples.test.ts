import assert from 'node:assert/strict';
import type { MetricPoint, ResourceSample } from '../../../shared/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

/**
 * The agent's fast tick publishes partial resource samples (only the gauge groups that moved). The collector must
 * judge the series a sample carries and leave every other series alone: a gauge missing from a sample is not gone.
 */
const rules = [
  {
    name: 'disk_full',
    kind: 'threshold',
    metric: 'offhook_filesystem_used_ratio',
    crit: 0.9,
    clear_below: 0.8,
    for: '30s',
  },
  { name: 'memory_full', kind: 'threshold', metric: 'offhook_memory_used_ratio', crit: 0.9, clear_below: 0.8 },
];
const fs = (mountpoint: string, value: number): MetricPoint => ({
  name: 'offhook_filesystem_used_ratio',
  type: 'gauge',
  value,
  labels: { mountpoint },
});
const memory = (value: number): MetricPoint => ({ name: 'offhook_memory_used_ratio', type: 'gauge', value });

describe('collector engine: partial resource samples (agent fast tick)', () => {
  it('a series missing from a partial sample keeps its alert and `for` timer; only carried series are judged', () => {
    const { engine, clock, output } = engineFor(rules);
    const script = new EventScript(clock);
    const sample = (metrics: MetricPoint[]): ResourceSample => ({ ...script.resource('web1', 'x', 0), metrics });
    script.feed(engine, sample([fs('/', 0.95), fs('/srv', 0.1), memory(0.95)]));
    assert.deepEqual(output.take(), ['firing web1 memory_full critical g1'], '/ is pending for 30 s');
    clock.advance(10_000);
    script.feed(engine, sample([fs('/srv', 0.5)]));
    assert.deepEqual(output.take(), [], 'neither memory nor / is read as gone');
    clock.advance(20_000);
    engine.tick();
    assert.deepEqual(output.take(), ['firing web1 disk_full critical g1'], "/'s for timer ran on");
    script.feed(engine, sample([memory(0.5)]));
    assert.deepEqual(output.take(), ['resolved web1 memory_full critical g1'], 'only memory is judged');
    script.feed(engine, sample([fs('/', 0.5)]));
    assert.deepEqual(output.take(), ['resolved web1 disk_full critical g1']);
  });
});
