import assert from 'node:assert/strict';
import { fingerprint, SCHEMA_VERSION, type Alert } from '../../../shared/index.ts';
import {
  acknowledger,
  createMute,
  flapDetector,
  inhibitor,
  silencer,
  type Announcement,
  type MuteSubject,
} from '../../../collector/mute/index.ts';
import type { Silence } from '../../../collector/silences/index.ts';
import { engineFor, EventScript } from '../alerts/engine-harness.ts';

const NOW = 1_700_000_000_000;

function alert(overrides: Partial<Alert> = {}): Alert {
  const fp = fingerprint('web1', 'disk');
  return {
    v: SCHEMA_VERSION,
    id: `${fp}.2`,
    host: 'web1',
    ts: NOW,
    fingerprint: fp,
    status: 'firing',
    severity: 'critical',
    rule: 'disk',
    ruleKind: 'threshold',
    labels: {},
    summary: 'web1: disk is full',
    value: 95,
    startsAt: NOW,
    endsAt: 0,
    generation: 2,
    inhibited: false,
    acknowledged: false,
    ...overrides,
  };
}

/** Every muter, each switched on by the test: what is under test is the decision over them. */
function muteWith(on: { silenced?: boolean; flapping?: boolean }) {
  return createMute([
    acknowledger,
    flapDetector(() => on.flapping ?? false),
    silencer(() => (on.silenced ? 'a silence' : undefined)),
    inhibitor,
  ]);
}

const ALL: Announcement[] = ['firing', 'rise', 'repeat', 'resolved', 'fallback'];

function mutedFor(mute: ReturnType<typeof muteWith>, subject: MuteSubject): string[] {
  return ALL.map((what) => {
    const decision = mute(subject, NOW, what);
    return `${what}:${decision.muted ? decision.reason : '-'}`;
  });
}

describe('collector mute: one decision whether people are told', () => {
  it('nothing applies: nothing is muted', () => {
    assert.deepEqual(mutedFor(muteWith({}), { alert: alert(), ack: null }), [
      'firing:-',
      'rise:-',
      'repeat:-',
      'resolved:-',
      'fallback:-',
    ]);
  });

  it('each reason holds back what it should, and a resolution only while flapping', () => {
    const ack = { generation: 2, until: 0 };
    assert.deepEqual(mutedFor(muteWith({ silenced: true }), { alert: alert(), ack: null }), [
      'firing:silenced',
      'rise:silenced',
      'repeat:silenced',
      'resolved:-',
      'fallback:-',
    ]);
    assert.deepEqual(mutedFor(muteWith({}), { alert: alert({ inhibited: true }), ack: null }), [
      'firing:inhibited',
      'rise:inhibited',
      'repeat:inhibited',
      'resolved:-',
      'fallback:-',
    ]);
    assert.deepEqual(mutedFor(muteWith({ flapping: true }), { alert: alert(), ack: null }), [
      'firing:flapping',
      'rise:flapping',
      'repeat:flapping',
      'resolved:flapping',
      'fallback:-',
    ]);
    assert.deepEqual(mutedFor(muteWith({}), { alert: alert(), ack }), [
      'firing:-',
      'rise:acknowledged',
      'repeat:acknowledged',
      'resolved:-',
      'fallback:-',
    ]);
  });

  it('precedence: inhibited, then silenced, then flapping, then acknowledged, whatever the muters order', () => {
    const ack = { generation: 2, until: 0 };
    const all = { alert: alert({ inhibited: true }), ack };
    assert.deepEqual(muteWith({ silenced: true, flapping: true })(all, NOW, 'repeat'), {
      muted: true,
      reason: 'inhibited',
    });
    const noInhibition = { alert: alert(), ack };
    assert.deepEqual(muteWith({ silenced: true, flapping: true })(noInhibition, NOW, 'repeat'), {
      muted: true,
      reason: 'silenced',
    });
    assert.deepEqual(muteWith({ flapping: true })(noInhibition, NOW, 'repeat'), { muted: true, reason: 'flapping' });
    assert.deepEqual(muteWith({})(noInhibition, NOW, 'repeat'), { muted: true, reason: 'acknowledged' });
  });

  it('an ack of an older generation, or one past its until, mutes nothing', () => {
    const mute = muteWith({});
    assert.equal(mute({ alert: alert(), ack: { generation: 1, until: 0 } }, NOW, 'repeat').muted, false);
    assert.equal(mute({ alert: alert(), ack: { generation: 2, until: NOW + 1 } }, NOW, 'repeat').muted, true);
    assert.equal(mute({ alert: alert(), ack: { generation: 2, until: NOW } }, NOW, 'repeat').muted, false);
  });

  it("a snapshot without the record's ack is judged by its acknowledged flag (the notification pipeline)", () => {
    const mute = muteWith({});
    assert.deepEqual(mute({ alert: alert({ acknowledged: true }) }, NOW, 'repeat'), {
      muted: true,
      reason: 'acknowledged',
    });
    assert.equal(mute({ alert: alert() }, NOW, 'repeat').muted, false);
  });

  it('the flapping alert itself is never muted by its own flapping', () => {
    const flapAlert = alert({ ruleKind: 'flapping', labels: { flapping: 'true' } });
    assert.equal(muteWith({ flapping: true })({ alert: flapAlert, ack: null }, NOW, 'firing').muted, false);
  });

  describe("the engine's mute (what its announcements and the external alerts ask)", () => {
    const disk = {
      name: 'disk',
      kind: 'threshold',
      metric: 'node_filesystem_used_percent',
      crit: 90,
      clear_below: 75,
      for: '0s',
    };

    function firing() {
      const { engine, clock, output } = engineFor([disk], { defaults: { repeat_interval: '1h' } });
      const script = new EventScript(clock);
      script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
      const fp = fingerprint('web1', 'disk');
      return { engine, clock, output, script, fp, record: () => engine.records.get(fp)! };
    }

    it('a silence mutes until its end, not after, and not before its start', () => {
      const { engine, clock, record } = firing();
      const now = clock.now();
      const silence: Silence = {
        id: 's1',
        matchers: [{ name: 'host', op: '=', value: 'web1' }],
        startsAt: now + 1000,
        endsAt: now + 60_000,
        createdBy: 'alice',
        comment: 'maintenance',
        createdAt: now,
      };
      engine.setSilences([silence]);
      assert.equal(engine.mute(record(), now, 'repeat').muted, false, 'not started yet');
      assert.deepEqual(engine.mute(record(), now + 1000, 'repeat'), { muted: true, reason: 'silenced' });
      assert.equal(engine.mute(record(), now + 59_999, 'repeat').muted, true);
      assert.equal(engine.mute(record(), now + 60_000, 'repeat').muted, false, 'expired');
    });

    it("an ack mutes its generation's repeats; the next generation is told again", () => {
      const { engine, clock, output, script, fp, record } = firing();
      assert.equal(engine.handleAck(script.ack(fp)), 'applied');
      assert.deepEqual(engine.mute(record(), clock.now(), 'repeat'), { muted: true, reason: 'acknowledged' });
      clock.advance(10_000);
      script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 50));
      clock.advance(10_000);
      script.feed(engine, script.resource('web1', 'node_filesystem_used_percent', 95));
      assert.equal(record().alert.generation, 2);
      assert.equal(record().ack, null, 'a new generation starts without an ack');
      const oldAck = { ...record(), ack: { generation: 1, until: 0, by: 'alice', at: 0 } };
      assert.equal(engine.mute(oldAck, clock.now(), 'repeat').muted, false, 'the old generation ack mutes nothing');
      assert.deepEqual(output.take(), [
        'firing web1 disk critical g1',
        'resolved web1 disk critical g1',
        'firing web1 disk critical g2',
      ]);
    });

    it('a down host inhibits its other alerts and the engine says so', () => {
      const { engine, clock, script, record } = firing();
      const down = { name: 'down', kind: 'host_down', missed_heartbeats: 2 };
      const withDown = engineFor([disk, down], { clock });
      withDown.engine.handleHeartbeat(script.heartbeat('web1', 10_000));
      script.feed(withDown.engine, script.resource('web1', 'node_filesystem_used_percent', 95));
      clock.advance(60_000);
      withDown.engine.tick();
      const inhibited = withDown.engine.records.get(fingerprint('web1', 'disk'))!;
      assert.equal(inhibited.alert.inhibited, true);
      assert.deepEqual(withDown.engine.mute(inhibited, clock.now(), 'repeat'), { muted: true, reason: 'inhibited' });
      assert.equal(engine.mute(record(), clock.now(), 'repeat').muted, false, 'the other engine has no down host');
    });
  });
});
