import assert from 'node:assert/strict';
import { fingerprint } from '../../../shared/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

const disk = {
  name: 'disk',
  kind: 'threshold',
  metric: 'node_filesystem_used_percent',
  warn: 80,
  crit: 90,
  clear_below: 75,
  for: '30s',
  summary: '{host}: disk {labels.mountpoint} is {value} % full ({level} {relation} {threshold} %)',
};

describe('collector engine: threshold rules', () => {
  it('waits `for` before firing and says what the value is, in a sentence', () => {
    const { engine, clock, output } = engineFor([disk]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95, { mountpoint: '/' }));
    assert.deepEqual(output.take(), [], 'pending, not firing');
    clock.advance(20_000);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95.04, { mountpoint: '/' }));
    assert.deepEqual(output.take(), []);
    clock.advance(10_000);
    engine.tick();
    const fired = output.announced.map((e) => e.alert);
    assert.deepEqual(output.take(), ['firing web1 disk critical g1']);
    assert.equal(fired[0]!.summary, 'web1: disk / is 95 % full (critical above 90 %)');
    assert.equal(fired[0]!.fingerprint, fingerprint('web1', 'disk', { mountpoint: '/' }));
  });

  it('a condition that clears before `for` elapses never fires', () => {
    const { engine, clock, output } = engineFor([disk]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
    clock.advance(10_000);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 50));
    clock.advance(60_000);
    engine.tick();
    assert.deepEqual(output.take(), []);
  });

  it('hysteresis: a value hovering at the line does not flap; it clears only below clear_below', () => {
    const { engine, clock, output } = engineFor([{ ...disk, for: '0s', warn: undefined, crit: 90 }]);
    const script = new EventScript(clock);
    for (const value of [91, 89, 90.5, 89.5, 91, 88, 80, 76]) {
      clock.advance(10_000);
      script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', value));
    }
    assert.deepEqual(output.take(), ['firing web1 disk critical g1']);
    clock.advance(10_000);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 74));
    assert.deepEqual(output.take(), ['resolved web1 disk critical g1']);
    clock.advance(10_000);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 92));
    assert.deepEqual(output.take(), ['firing web1 disk critical g2'], 're-fire is a new generation');
  });

  it('rises from warning to critical are told again; falls are not', () => {
    const { engine, clock, output } = engineFor([{ ...disk, for: '0s' }]);
    const script = new EventScript(clock);
    for (const value of [85, 95, 85, 95]) {
      clock.advance(10_000);
      script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', value));
    }
    assert.deepEqual(output.take(), ['firing web1 disk warning g1', 'repeat web1 disk critical g1']);
  });

  it('host and label matchers select series; other hosts and mounts are ignored', () => {
    const { engine, clock, output } = engineFor([
      { ...disk, for: '0s', hosts: ['web*'], exclude_hosts: ['web9'], match: ['mountpoint!=/boot'] },
    ]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('db1', 'node_filesystem_used_percent', 99, { mountpoint: '/' }));
    script.feed(engine, script.resource('web9', 'node_filesystem_used_percent', 99, { mountpoint: '/' }));
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 99, { mountpoint: '/boot' }));
    script.feed(engine, script.resource('web2', 'node_filesystem_used_percent', 99, { mountpoint: '/var' }));
    assert.deepEqual(output.take(), ['firing web2 disk critical g1']);
  });

  it('re-notifies while firing at repeat_interval, and an ack stops it until the next generation', () => {
    const { engine, clock, output } = engineFor([{ ...disk, for: '0s', repeat_interval: '1h' }]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
    clock.advance(3_600_000);
    engine.tick();
    assert.deepEqual(output.take(), ['firing web1 disk critical g1', 'repeat web1 disk critical g1']);
    const fp = fingerprint('web1', 'disk', {});
    assert.equal(engine.handleAck(script.ack(fp)), 'applied');
    clock.advance(3_600_000);
    engine.tick();
    assert.deepEqual(output.take(), [], 'acknowledged: no repeat');
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 10));
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
    clock.advance(3_600_000);
    engine.tick();
    assert.deepEqual(output.take(), [
      'resolved web1 disk critical g1',
      'firing web1 disk critical g2',
      'repeat web1 disk critical g2',
    ]);
  });

  it('skips duplicate and replayed events by stream sequence and agent seq', () => {
    const { engine, clock, output } = engineFor([{ ...disk, for: '0s' }]);
    const script = new EventScript(clock);
    const event = script.resource('web1', 'node_filesystem_used_percent', 95);
    assert.equal(engine.handleEvent(event, 1), true);
    assert.equal(engine.handleEvent(event, 1), false, 'same stream sequence');
    assert.equal(engine.handleEvent(event, 2), false, 'same agent seq stored twice');
    assert.deepEqual(output.take(), ['firing web1 disk critical g1']);
  });

  it('an ack with an end time stops repeats only until then', () => {
    const { engine, clock, output } = engineFor([{ ...disk, for: '0s', repeat_interval: '1h' }]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
    const fp = fingerprint('web1', 'disk', {});
    engine.handleAck(script.ack(fp, 'bob', clock.now() + 2 * 3_600_000));
    clock.advance(3_600_000);
    engine.tick();
    assert.deepEqual(output.take(), ['firing web1 disk critical g1'], 'acked for two hours');
    clock.advance(3_600_000);
    engine.tick();
    assert.equal(engine.records.get(fp)!.alert.acknowledged, false, 'the ack expired');
    assert.deepEqual(output.take(), ['repeat web1 disk critical g1'], 'a festering problem calls again');
  });

  it('summary_scale reads a ratio out as percent', () => {
    const { engine, clock, output } = engineFor([
      {
        name: 'mem',
        kind: 'threshold',
        metric: 'offhook_memory_used_ratio',
        crit: 0.95,
        summary_scale: 100,
        summary: '{host}: memory is {value} % used ({level} {relation} {threshold} %)',
      },
    ]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('db1', 'offhook_memory_used_ratio', 0.973));
    assert.equal(output.announced[0]!.alert.summary, 'db1: memory is 97.3 % used (critical above 95 %)');
    assert.equal(output.announced[0]!.alert.value, 0.973, 'the alert value stays the measured one');
  });
});
