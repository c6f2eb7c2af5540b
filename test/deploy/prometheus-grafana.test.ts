import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8');

/**
 * Names the dashboard relies on that no process exports yet; each is listed in deploy/README.md under
 * "Metrics contract" for the process that owns it. The test fails once one appears, so the list cannot go stale.
 */
const PENDING_METRICS = new Set<string>([]);

/** Every `'offhook_...'` metric name defined in the processes' and shared sources. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO, dir))) {
      const path = join(dir, entry);
      if (statSync(join(REPO, path)).isDirectory()) walk(path);
      else if (path.endsWith('.ts'))
        for (const m of read(path).matchAll(/['"`](offhook_[a-z0-9_]+)['"`]/g)) names.add(m[1]!);
    }
  };
  for (const dir of ['agent', 'collector', 'telephony-gateway', 'shared']) walk(dir);
  return names;
}

function metricNamesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(offhook_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

function assertBalanced(expr: string, where: string): void {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of expr.replace(/"[^"]*"/g, '""')) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs) assert.equal(stack.pop(), pairs[ch], `${where}: unbalanced ${ch} in ${expr}`);
  }
  assert.equal(stack.length, 0, `${where}: unclosed ${stack.join('')} in ${expr}`);
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr?: string; refId: string; datasource?: { uid: string } }[];
}

describe('deploy/grafana dashboard and deploy/prometheus config', function () {
  const exported = exportedMetricNames();
  const dashboard = JSON.parse(read('deploy/grafana/offhook-dashboard.json')) as {
    schemaVersion: number;
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: string }[] };
  };
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('is a Grafana dashboard with a Prometheus datasource variable', function () {
    assert.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion}`);
    assert.equal(dashboard.uid, 'offhook-overview');
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.deepEqual(variable && { type: variable.type, query: variable.query }, {
      type: 'datasource',
      query: 'prometheus',
    });
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, 'panel ids are unique');
  });

  it('gives every panel a PromQL query on the datasource variable', function () {
    for (const panel of panels) {
      assert.ok(panel.targets && panel.targets.length > 0, `${panel.title}: no query`);
      assert.equal(panel.datasource?.uid, '${datasource}', `${panel.title}: panel datasource`);
      for (const target of panel.targets) {
        assert.ok(target.expr && target.expr.trim().length > 0, `${panel.title} ${target.refId}: empty expr`);
        assert.equal(target.datasource?.uid, '${datasource}', `${panel.title} ${target.refId}: target datasource`);
        assertBalanced(target.expr, panel.title);
      }
    }
  });

  it('covers hosts up, alerts firing, event rate, calls and cost', function () {
    const exprs = panels.flatMap((p) => p.targets!.map((t) => t.expr!)).join('\n');
    const needs = [
      'offhook_hosts{state="up"}',
      'offhook_alerts_firing',
      'offhook_collector_events_total',
      'offhook_gateway_calls_total',
      'offhook_gateway_estimated_cost_currency_total',
      'offhook_gateway_budget_remaining_calls',
      'offhook_gateway_budget_remaining_seconds',
      'offhook_gateway_budget_remaining_currency',
    ];
    for (const needed of needs) {
      assert.ok(exprs.includes(needed), `no panel queries ${needed}`);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', function () {
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title}: x ${x} w ${w}`);
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const other = cells.get(`${row},${col}`);
          assert.equal(other, undefined, `${panel.title} overlaps ${other}`);
          cells.set(`${row},${col}`, panel.title);
        }
      }
    }
  });

  it('queries only metrics the processes export (or the pending contract names)', function () {
    const rules = parse(read('deploy/prometheus/offhook-rules.yml')) as { groups: { rules: { expr: string }[] }[] };
    const exprs = [
      ...panels.flatMap((p) => p.targets!.map((t) => t.expr!)),
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
    ];
    const unknown = [...new Set(exprs.flatMap(metricNamesIn))].filter(
      (name) => !exported.has(name) && !PENDING_METRICS.has(name),
    );
    assert.deepEqual(unknown, [], 'metric names no process exports: rename them, or add them to the README contract');
    for (const pending of PENDING_METRICS)
      assert.ok(
        !exported.has(pending),
        `${pending} is exported now: remove it from PENDING_METRICS and the README's pending list`,
      );
    assert.match(read('deploy/README.md'), /offhook_hosts\{state\}/);
  });

  it('scrapes agent, collector and gateway on the ports their configs default to', function () {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        static_configs?: { targets: string[] }[];
        file_sd_configs?: { files: string[] }[];
      }[];
      rule_files: string[];
    };
    const job = (name: string) => config.scrape_configs.find((j) => j.job_name === name);
    assert.ok(job('offhook-agent')?.file_sd_configs?.[0]?.files[0]?.endsWith('offhook-agents.yml'));
    const agents = parse(read('deploy/prometheus/offhook-agents.yml')) as { targets: string[] }[];
    assert.ok(agents.flatMap((g) => g.targets).every((t) => t.endsWith(':9464')));
    assert.ok(job('offhook-collector')?.static_configs?.[0]?.targets.every((t) => t.endsWith(':9465')));
    assert.ok(job('offhook-gateway')?.static_configs?.[0]?.targets.every((t) => t.endsWith(':9466')));
    assert.match(read('agent/config.ts'), /metrics_listen: ListenAddress\.default\('127\.0\.0\.1:9464'\)/);
    assert.match(read('collector/config.ts'), /listen: ListenAddress\.default\('127\.0\.0\.1:9465'\)/);
    assert.match(read('telephony-gateway/config.ts'), /metrics_listen: ListenAddress\.default\('127\.0\.0\.1:9466'\)/);
    assert.deepEqual(config.rule_files, ['offhook-rules.yml']);
  });

  it('has alerting rules for offhook itself with an alert name, expr and summary each', function () {
    const rules = parse(read('deploy/prometheus/offhook-rules.yml')) as {
      groups: { rules: { alert: string; expr: string; annotations: { summary: string } }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    assert.ok(all.length >= 5);
    for (const rule of all) {
      assert.match(rule.alert, /^Offhook[A-Za-z]+$/);
      assertBalanced(rule.expr, rule.alert);
      assert.ok(rule.annotations.summary.length > 10, `${rule.alert}: summary`);
    }
    for (const needed of ['OffhookCollectorDown', 'OffhookGatewayDown', 'OffhookGatewayLineDown'])
      assert.ok(
        all.some((r) => r.alert === needed),
        needed,
      );
  });
});
