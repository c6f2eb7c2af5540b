import assert from 'node:assert/strict';
import { CollectorConfig, CollectorConfigFile } from '../../../collector/config.ts';
import { compileInhibitRules, inhibitingRule, InhibitRuleConfig } from '../../../collector/mute/inhibit-rules.ts';
import { createMute, inhibitor } from '../../../collector/mute/index.ts';
import { fingerprint } from '../../../shared/index.ts';
import { engineFor, EventScript } from '../alerts/engine-harness.ts';

const rules = (...configs: unknown[]) => compileInhibitRules(configs.map((c) => InhibitRuleConfig.parse(c)));

describe('inhibit_rules (Alertmanager semantics)', () => {
  const critical = rules({
    source_matchers: ['severity="critical"'],
    target_matchers: ['severity="warning"'],
    equal: ['host'],
  });

  it('a firing source with equal labels inhibits; another host or no source does not', () => {
    const target = { alertname: 'load', severity: 'warning', host: 'web1' };
    assert.equal(inhibitingRule(critical, target, [{ alertname: 'disk', severity: 'critical', host: 'web1' }]), 0);
    assert.equal(inhibitingRule(critical, target, [{ alertname: 'disk', severity: 'critical', host: 'web2' }]), -1);
    assert.equal(inhibitingRule(critical, target, []), -1, 'resolved sources are not passed: nothing inhibits');
  });

  it('a label missing on both sides counts as equal (empty string), missing on one side does not', () => {
    const r = rules({ source_matchers: ['alertname="a"'], target_matchers: ['alertname="b"'], equal: ['zone'] });
    assert.equal(inhibitingRule(r, { alertname: 'b' }, [{ alertname: 'a' }]), 0);
    assert.equal(inhibitingRule(r, { alertname: 'b', zone: 'eu' }, [{ alertname: 'a' }]), -1);
    assert.equal(inhibitingRule(r, { alertname: 'b', zone: '' }, [{ alertname: 'a' }]), 0);
  });

  it('two-sided match: alerts matching both sides never inhibit each other, a one-sided source still does', () => {
    const r = rules({ source_matchers: ['team="db"'], target_matchers: ['team="db"'], equal: ['host'] });
    const self = { team: 'db', host: 'h', alertname: 'x' };
    assert.equal(inhibitingRule(r, self, [self, { team: 'db', host: 'h', alertname: 'y' }]), -1);
    const r2 = rules({ source_matchers: ['team="db"'], target_matchers: ['host="h"'], equal: ['host'] });
    assert.equal(inhibitingRule(r2, self, [self]), -1, 'matches both sides: not inhibited by itself');
    assert.equal(inhibitingRule(r2, self, [{ team: 'db', host: 'h2' }]), -1, 'equal host differs');
    const r3 = rules({ source_matchers: ['team="db"'], target_matchers: ['severity="warning"'], equal: ['host'] });
    const warn = { team: 'db', severity: 'warning', host: 'h' };
    assert.equal(inhibitingRule(r3, warn, [warn]), -1);
    assert.equal(inhibitingRule(r3, warn, [warn, { team: 'db', severity: 'critical', host: 'h' }]), 0);
  });

  it('several rules: the first that holds answers; deprecated maps read as matchers', () => {
    const r = rules(
      { source_matchers: ['alertname="never"'], target_matchers: ['alertname=~".*"'] },
      { source_match: { alertname: 'host_down' }, target_match_re: { alertname: 'disk|load' }, equal: ['host'] },
    );
    assert.equal(inhibitingRule(r, { alertname: 'load', host: 'a' }, [{ alertname: 'host_down', host: 'a' }]), 1);
    assert.equal(inhibitingRule(r, { alertname: 'ssh', host: 'a' }, [{ alertname: 'host_down', host: 'a' }]), -1);
  });

  it("the Muter reads the decision from the alert's inhibited flag, as host-down inhibition does", () => {
    const mute = createMute([inhibitor]);
    const { engine, clock, output } = engineFor(
      [
        { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 },
        { name: 'load', kind: 'threshold', metric: 'node_load1', warn: 5 },
      ],
      {
        inhibit_rules: [
          { source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'], equal: ['host'] },
        ],
      },
    );
    const script = new EventScript(clock);
    script.feed(engine, script.resource('web1', 'disk_used', 95));
    script.feed(engine, script.resource('web1', 'node_load1', 8));
    script.feed(engine, script.resource('web2', 'node_load1', 8));
    assert.deepEqual(output.take(), ['firing web1 disk critical g1', 'firing web2 load warning g1']);
    const load = engine.records.get(fingerprint('web1', 'load', {}))!;
    assert.equal(load.alert.inhibited, true);
    assert.deepEqual(mute(load, clock.now()), { muted: true, reason: 'inhibited' });
    script.feed(engine, script.resource('web1', 'disk_used', 10));
    assert.deepEqual(output.take(), ['resolved web1 disk critical g1', 'firing web1 load warning g1']);
    assert.equal(load.alert.inhibited, false, 'a resolved source stops inhibiting');
  });

  it('config: a bad matcher is refused naming the field; deprecated forms get a check-config notice', () => {
    const result = CollectorConfig.safeParse({
      nats: {},
      notifications: {},
      inhibit_rules: [{ source_matchers: ['severity=="critical'] }],
    });
    assert.equal(result.success, false);
    const issue = result.error!.issues.find((i) => i.path[0] === 'inhibit_rules')!;
    assert.deepEqual(issue.path, ['inhibit_rules', 0, 'source_matchers', 0]);
    assert.match(issue.message, /double quote/);
    const notices = CollectorConfigFile.notices!({ inhibit_rules: [{ source_match: { a: 'b' } }] });
    assert.ok(notices.some((n) => /inhibit_rules\[0\]\.source_match is deprecated.*source_matchers/.test(n)));
  });
});
