import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfigFiles } from '../../ops/check-config.ts';
import { ConfigError, loadConfigFile } from '../../shared/index.ts';
import { gatewayConfigKinds } from '../../telephony-gateway/cli.ts';
import { GatewayConfig } from '../../telephony-gateway/config.ts';

describe('gateway config', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-gwcfg-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('check-config accepts the shipped example deploy/examples/gateway.yaml', () => {
    const result = checkConfigFiles(['deploy/examples/gateway.yaml'], gatewayConfigKinds);
    assert.deepEqual(result, { ok: true, lines: ['gateway.yaml: OK (gateway config)'] });
    const config = loadConfigFile('deploy/examples/gateway.yaml', GatewayConfig);
    assert.deepEqual(
      config.people.map((p) => p.name),
      ['alice', 'bob', 'noc'],
    );
    assert.equal(config.line.answer_timeout, 20_000);
    assert.equal(config.escalation.round_delay, 300_000);
  });

  it('names the field, the expectation and the value for every mistake', () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(
      file,
      [
        'people:',
        '  - { name: alice, number: "call me", pin: "12" }',
        '  - { name: alice, number: "200", timezone: Mars/Olympus, quiet_hours: { from: "25:00", to: "07:00" } }',
        'budget: { max_calls_per_hour: -1 }',
        'line: { answer_timeout: soon }',
      ].join('\n'),
    );
    assert.throws(
      () => loadConfigFile(file, GatewayConfig),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.message;
        for (const expected of [
          /gateway\.yaml: people\[0\]\.number: expected a dial string/,
          /people\[0\]\.pin: expected 4-12 digits/,
          /people\[1\]\.timezone: expected an IANA time zone/,
          /people\[1\]\.quiet_hours\.from: expected a time of day "HH:MM"/,
          /budget\.max_calls_per_hour/,
          /line\.answer_timeout: expected a duration like "30s"/,
        ])
          assert.match(text, expected);
        return true;
      },
    );
  });

  it('refuses a config without anyone to call and duplicate names', () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, 'people: []\n');
    assert.throws(() => loadConfigFile(file, GatewayConfig), /people: expected at least one person to call/);
    writeFileSync(file, 'people: [{ name: a, number: "1" }, { name: a, number: "2" }]\n');
    assert.throws(
      () => loadConfigFile(file, GatewayConfig),
      /people\[1\]\.name: expected a unique person name; "[^"]+" is also people\[0\]/,
    );
  });
});
