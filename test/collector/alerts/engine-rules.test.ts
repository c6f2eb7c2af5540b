import assert from 'node:assert/strict';
import { fingerprint } from '../../../shared/index.ts';
import { engineFor, EventScript } from './engine-harness.ts';

describe('collector engine: check, log, host-down and flapping rules', () => {
  it('check: soft until max_attempts non-OK results in a row, then hard; recovery after one OK', () => {
    const { engine, clock, output } = engineFor([{ name: 'ssh', kind: 'check', check: '^ssh$', max_attempts: 3 }]);
    const script = new EventScript(clock);
    const run = (status: 'ok' | 'critical' | 'warning' | 'unknown') => {
      clock.advance(60_000);
      script.feed(engine, script.check('web1', 'ssh', status, 'connection refused'));
    };
    run('critical');
    run('critical');
    run('ok');
    run('critical');
    run('critical');
    assert.deepEqual(output.take(), [], 'never three in a row: soft only');
    run('critical');
    const alert = output.announced[0]!.alert;
    assert.deepEqual(output.take(), ['firing web1 ssh critical g1']);
    assert.equal(alert.summary, 'web1: ssh is critical: connection refused');
    assert.deepEqual(alert.labels, { check: 'ssh' });
    run('critical');
    run('ok');
    assert.deepEqual(output.take(), ['resolved web1 ssh critical g1']);
    script.feed(engine, script.check('web1', 'http', 'critical'));
    assert.deepEqual(output.take(), [], 'other checks are not this rule');
  });

  it('check: recovery_attempts and unknown_as are honoured', () => {
    const { engine, clock, output } = engineFor([
      { name: 'svc', kind: 'check', max_attempts: 1, recovery_attempts: 2, unknown_as: 'critical' },
    ]);
    const script = new EventScript(clock);
    for (const status of ['unknown', 'ok', 'critical', 'ok', 'ok'] as const) {
      clock.advance(60_000);
      script.feed(engine, script.check('web1', 'mysql', status));
    }
    assert.deepEqual(output.take(), ['firing web1 svc critical g1', 'resolved web1 svc critical g1']);
  });

  it('log: fires at count matches within the window and resolves when the window slides past them', () => {
    const { engine, clock, output } = engineFor([
      { name: 'oom', kind: 'log', log_rule: 'oom', count: 3, within: '5m', severity: 'critical' },
    ]);
    const script = new EventScript(clock);
    script.feed(engine, script.log('web1', 'oom', 'Out of memory: Killed process 1'));
    clock.advance(60_000);
    script.feed(engine, script.log('web1', 'oom', 'Out of memory: Killed process 2'));
    clock.advance(250_000);
    engine.tick();
    script.feed(engine, script.log('web1', 'oom', 'Out of memory: Killed process 3'));
    assert.deepEqual(output.take(), [], 'the first match slid out of the window: only 2 in 5 minutes');
    clock.advance(20_000);
    script.feed(engine, script.log('web1', 'oom', 'Out of memory: Killed \u001b[31mprocess 4'));
    const alert = output.announced[0]!.alert;
    assert.deepEqual(output.take(), ['firing web1 oom critical g1']);
    assert.equal(
      alert.summary,
      'web1: 3 log lines matching oom in /var/log/syslog within 5 minutes, the last: Out of memory: ' +
        'Killed [31mprocess 4',
    );
    clock.advance(300_000);
    engine.tick();
    assert.deepEqual(output.take(), ['resolved web1 oom critical g1']);
  });

  it('log: matches the agent dropped by its flood limit count toward the rate', () => {
    const { engine, clock, output } = engineFor([{ name: 'errors', kind: 'log', count: 100, within: '1m' }]);
    const script = new EventScript(clock);
    script.feed(engine, script.log('web1', 'error', 'error 1', 99));
    assert.deepEqual(output.take(), ['firing web1 errors warning g1']);
  });

  it("host down: fires after missed heartbeats, holds back the host's other alerts; unseen hosts are not down", () => {
    const { engine, clock, output } = engineFor([
      { name: 'host_down', kind: 'host_down', missed_heartbeats: 6 },
      { name: 'load', kind: 'threshold', metric: 'node_load1', crit: 10 },
    ]);
    const script = new EventScript(clock);
    engine.handleHeartbeat(script.heartbeat('web1'));
    engine.handleHeartbeat(script.heartbeat('web2'));
    script.feed(engine, script.resource('web1', 'node_load1', 50));
    assert.deepEqual(output.take(), ['firing web1 load critical g1']);
    clock.advance(60_000);
    engine.handleHeartbeat(script.heartbeat('web2'));
    clock.advance(60_000);
    engine.tick();
    assert.deepEqual(output.take(), [], '120 s after the last heartbeat: not yet (down after 6 x 20 s)');
    clock.advance(1000);
    engine.tick();
    const down = output.announced[0]!.alert;
    assert.deepEqual(output.take(), ['firing web1 host_down critical g1']);
    assert.equal(
      down.summary,
      'web1 is down: no heartbeat for 2 minutes (expected every 20 seconds); ' +
        '1 other alert is held back until it is back',
    );
    const load = engine.records.get(fingerprint('web1', 'load', {}))!;
    assert.equal(load.alert.inhibited, true);
    script.feed(engine, script.resource('web1', 'node_load1', 5));
    script.feed(engine, script.resource('web1', 'node_load1', 50));
    assert.deepEqual(output.take(), ['resolved web1 load critical g1'], 'a re-fire while inhibited is not told');
    engine.handleHeartbeat(script.heartbeat('web1'));
    assert.deepEqual(
      output.take(),
      ['resolved web1 host_down critical g1', 'firing web1 load critical g2'],
      'held-back alerts are told when the host is back',
    );
    assert.equal(engine.hostDown('never-seen'), false);
  });

  it('flapping: one flapping alert instead of a stream, then the settled state is told once', () => {
    const { engine, clock, output } = engineFor([{ name: 'ping', kind: 'check', max_attempts: 1 }], {
      defaults: { flapping: { high_threshold: 30, low_threshold: 15 } },
    });
    const script = new EventScript(clock);
    for (let i = 0; i < 20; i++) {
      clock.advance(60_000);
      script.feed(engine, script.check('web1', 'ping', i % 2 === 0 ? 'critical' : 'ok'));
    }
    const flapLines = output.take();
    // Six changes with Nagios weights reach 30 %: three fire/resolve pairs, then one flapping alert for the next 14
    // changes.
    assert.deepEqual(flapLines, [
      'firing web1 ping critical g1',
      'resolved web1 ping critical g1',
      'firing web1 ping critical g2',
      'resolved web1 ping critical g2',
      'firing web1 ping critical g3',
      'resolved web1 ping critical g3',
      'flapping web1 ping(flapping) critical g1',
    ]);
    for (let i = 0; i < 30; i++) {
      clock.advance(60_000);
      script.feed(engine, script.check('web1', 'ping', 'critical'));
    }
    assert.deepEqual(output.take(), ['resolved web1 ping(flapping) critical g1', 'firing web1 ping critical g11']);
  });

  it('silences mute matching alerts until they end; a silence ending tells what is still firing', () => {
    const { engine, clock, output } = engineFor([{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }]);
    const script = new EventScript(clock);
    const now = clock.now();
    engine.setSilences([
      {
        id: 's1',
        matchers: [
          { name: 'host', op: '=', value: 'web1' },
          { name: 'rule', op: '=~', value: 'di.*' },
        ],
        startsAt: now,
        endsAt: now + 7_200_000,
        createdBy: 'alice',
        comment: 'disk swap',
        createdAt: now,
      },
    ]);
    script.feed(engine, script.resource('web1', 'disk_used', 95));
    script.feed(engine, script.resource('web2', 'disk_used', 95));
    assert.deepEqual(output.take(), ['firing web2 disk critical g1']);
    clock.advance(7_200_000);
    engine.tick();
    assert.deepEqual(output.take(), ['firing web1 disk critical g1']);
  });

  it('an ack for another generation is stale and changes nothing', () => {
    const { engine, clock } = engineFor([{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }]);
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'disk_used', 95));
    const fp = fingerprint('web1', 'disk', {});
    assert.equal(engine.handleAck({ ...script.ack(fp), generation: 7 }), 'stale');
    assert.equal(engine.handleAck(script.ack('0123456789abcdef')), 'unknown');
    assert.equal(engine.records.get(fp)!.alert.acknowledged, false);
  });

  it('restart from records + checkpoint: pending `for` timers resume, nothing is re-announced', () => {
    const rules = [
      { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 },
      { name: 'load', kind: 'threshold', metric: 'load', crit: 10, for: '5m' },
    ];
    const first = engineFor(rules);
    const script = new EventScript(first.clock);
    script.feed(first.engine, script.resource('web1', 'disk_used', 95));
    script.feed(first.engine, script.resource('web1', 'load', 50));
    const checkpoint = JSON.parse(JSON.stringify(first.engine.state.snapshot(first.engine.rules)));
    assert.deepEqual(first.output.take(), ['firing web1 disk critical g1']);
    const second = engineFor(rules, { clock: first.clock });
    second.engine.load([...first.output.stored.values()], checkpoint);
    first.clock.advance(300_000);
    second.engine.tick();
    assert.deepEqual(
      second.output.take(),
      ['firing web1 load critical g1'],
      'the for timer started before the restart',
    );
    script.feed(second.engine, script.resource('web1', 'disk_used', 96));
    assert.deepEqual(second.output.take(), []);
  });
});

describe('collector engine: replay after a crash', () => {
  it('events the stored alert already covers change nothing, even between replayed batches', () => {
    const rules = [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 }];
    const first = engineFor(rules);
    const script = new EventScript(first.clock);
    const events = [
      script.resource('web1', 'disk_used', 10),
      script.resource('web1', 'disk_used', 95),
      script.resource('web1', 'disk_used', 10),
    ];
    script.feed(first.engine, events[0]!);
    const checkpoint = JSON.parse(JSON.stringify(first.engine.state.snapshot(first.engine.rules)));
    script.feed(first.engine, events[1]!);
    script.feed(first.engine, events[2]!);
    assert.deepEqual(first.output.take(), ['firing web1 disk critical g1', 'resolved web1 disk critical g1']);

    const second = engineFor(rules, { clock: first.clock });
    second.engine.load([...first.output.stored.values()], checkpoint);
    second.engine.handleEvent(events[1]!, 2);
    first.clock.advance(1000);
    second.engine.tick();
    second.engine.handleEvent(events[2]!, 3);
    second.engine.tick();
    assert.deepEqual(second.output.take(), []);
    assert.equal(second.engine.records.get(fingerprint('web1', 'disk', {}))!.alert.generation, 1);
  });

  it('a `for` timer restored from a checkpoint older than a stored firing does not fire a second generation', () => {
    const rules = [{ name: 'load', kind: 'threshold', metric: 'load', crit: 10, for: '1m' }];
    const first = engineFor(rules);
    const script = new EventScript(first.clock);
    script.feed(first.engine, script.resource('web1', 'load', 50));
    const checkpoint = JSON.parse(JSON.stringify(first.engine.state.snapshot(first.engine.rules)));
    first.clock.advance(60_000);
    first.engine.tick();
    assert.deepEqual(first.output.take(), ['firing web1 load critical g1']);
    const second = engineFor(rules, { clock: first.clock });
    second.engine.load([...first.output.stored.values()], checkpoint);
    first.clock.advance(60_000);
    second.engine.tick();
    assert.deepEqual(second.output.take(), []);
  });
});

describe('collector engine: log floods', () => {
  it('a flood of matches keeps one counter per second, and the rate still resolves', () => {
    const { engine, clock } = engineFor([{ name: 'flood', kind: 'log', count: 10_000, within: '1m' }]);
    const script = new EventScript(clock);
    for (let i = 0; i < 20_000; i++) {
      if (i % 1000 === 0) clock.advance(1000);
      script.feed(engine, script.log('web1', 'error', `line ${i}`));
    }
    const record = [...engine.records.values()][0]!;
    assert.equal(record.alert.status, 'firing');
    const state = engine.rules[0]!.instance.snapshot() as Record<string, { hits: unknown[] }>;
    assert.equal(Object.values(state)[0]!.hits.length, 20);
    clock.advance(60_000);
    engine.tick();
    assert.equal(record.alert.status, 'resolved');
  });
});
