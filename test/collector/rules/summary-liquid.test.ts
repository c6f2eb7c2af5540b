import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorConfigFile } from '../../../collector/config.ts';
import { isLiquid, renderSummary } from '../../../collector/rules/summary.ts';
import { checkConfigFiles } from '../../../ops/check-config.ts';

const VARS = { host: 'web1', rule: 'disk_full', value: '97', level: 'critical', threshold: '95' };

function checkRuleSummary(summary: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-summary-'));
  try {
    const file = join(dir, 'collector.yaml');
    writeFileSync(
      file,
      [
        'nats: { servers: ["nats://127.0.0.1:4222"] }',
        'rules:',
        '  - { name: down, kind: host_down }',
        '  - name: disk_full',
        '    kind: threshold',
        '    metric: offhook_filesystem_used_ratio',
        '    crit: 0.95',
        `    summary: ${JSON.stringify(summary)}`,
        '',
      ].join('\n'),
    );
    return checkConfigFiles([file], { collector: CollectorConfigFile }).lines;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('rules: a summary may be a Liquid template ({{ or {% present), {name} placeholders still work', () => {
  it('renders the kind variables and labels; a missing label reads as nothing, like {labels.NAME}', () => {
    const labels = { mountpoint: '/var' };
    assert.equal(
      renderSummary(
        '{{ host | upcase }}: disk {{ labels.mountpoint }}{{ labels.nope }} is {{ value }} % full',
        VARS,
        labels,
      ),
      'WEB1: disk /var is 97 % full',
    );
    assert.equal(
      renderSummary('{{ host }}{% if level == "critical" %}, urgently{% endif %}: {{ value }} %', VARS),
      'web1, urgently: 97 %',
    );
  });

  it('keeps {name} placeholders as before; {{ or {% anywhere switches to Liquid', () => {
    assert.equal(
      renderSummary('{host}: disk {labels.mountpoint} is {value} %', VARS, { mountpoint: '/' }),
      'web1: disk / is 97 %',
    );
    assert.equal(renderSummary('{host} {typo}', VARS), 'web1 {typo}');
    assert.equal(isLiquid('{host}'), false);
    assert.equal(isLiquid('{{host}}'), true);
    assert.equal(renderSummary('{{host}}', VARS), 'web1');
  });

  it('a Liquid summary failing while rendering gives the built-in summary', () => {
    assert.equal(renderSummary('{{ host | find_exp: "a", "(" }}', VARS, {}, '{host} is {value} %'), 'web1 is 97 %');
  });

  it('check-config names the rule field for a broken template and for an unknown variable', () => {
    assert.deepEqual(checkRuleSummary('{{ host | nope }}'), [
      'collector.yaml: rules[1].summary: invalid template: undefined filter: nope, line:1, col:1, ' +
        'got "{{ host | nope }}"',
    ]);
    assert.deepEqual(checkRuleSummary('{{ hots }} {{ labels.mountpoint }}'), [
      'collector.yaml: rules[1].summary: expected variables among host, rule, metric, value, level, relation, ' +
        'threshold or labels.NAME; hots is unknown, got "{{ hots }} {{ labels.mountpoint }}"',
    ]);
    assert.equal(
      checkRuleSummary('{{ host }}: {{ value }} % ({{ labels.mountpoint }})')[0],
      'collector.yaml: OK (collector config)',
    );
  });
});

describe("rules: the collector README's Liquid summary example", () => {
  it('passes check-config and renders', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const readme = readFileSync(new URL('../../../collector/README.md', import.meta.url), 'utf8');
    const block = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].find((m) => m[1]!.includes('act now'))![1]!;
    const summary = parse(block).rules[0].summary as string;
    assert.equal(checkRuleSummary(summary)[0], 'collector.yaml: OK (collector config)');
    assert.equal(renderSummary(summary, VARS, { mountpoint: '/var' }), 'web1: disk /var is 97 % full, act now');
    assert.equal(renderSummary(summary, { ...VARS, level: 'warning' }), 'web1: disk unknown is 97 % full');
  });
});
