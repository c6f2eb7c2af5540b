import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, RouteHandler } from '../shared/index.ts';
import type { AlertRecord } from './alert-record.ts';
import type { CommitQueue } from './commit-queue.ts';
import type { AlertEngine } from './engine.ts';
import { describeMatchers } from './silence.ts';
import { formatDuration } from './summary.ts';

interface StatusDeps {
  engine: AlertEngine;
  queue: CommitQueue;
  clock: Clock;
}

/** Everything on the page comes from agents, log lines or operators: escape it all. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body, null, 2));
}

export function alertView(deps: StatusDeps, record: AlertRecord) {
  const silence = deps.engine.silencedBy(record.alert);
  return { ...record.alert, silencedBy: silence?.id ?? null, acknowledgedBy: deps.engine.isAcknowledged(record) ? record.ack!.by : null, lastNotifiedAt: record.lastNotifiedAt };
}

function firing(deps: StatusDeps) {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return [...deps.engine.records.values()]
    .filter((r) => r.alert.status === 'firing')
    .sort((a, b) => rank[a.alert.severity] - rank[b.alert.severity] || a.alert.startsAt - b.alert.startsAt)
    .map((r) => alertView(deps, r));
}

function hosts(deps: StatusDeps) {
  return [...deps.engine.hosts()].sort(([a], [b]) => a.localeCompare(b)).map(([host, info]) => ({ host, ...info, down: deps.engine.hostDown(host) }));
}

function ago(now: number, at: number): string {
  return at > 0 ? `${formatDuration(Math.max(0, now - at))} ago` : 'never';
}

function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  return `<table><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</table>`;
}
const td = (value: unknown, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(value)}</td>`;

function page(deps: StatusDeps): string {
  const now = deps.clock.now();
  const alerts = firing(deps);
  const alertRows = alerts.map((a) => [
    td(a.severity, a.severity),
    td(a.host),
    td(a.rule),
    td(a.summary),
    td(ago(now, a.startsAt)),
    td(a.generation),
    td([a.inhibited ? 'host down' : '', a.silencedBy ? `silenced (${a.silencedBy})` : '', a.acknowledgedBy ? `acked by ${a.acknowledgedBy}` : ''].filter(Boolean).join(', ') || 'notified'),
    td(a.fingerprint, 'mono'),
  ]);
  const hostRows = hosts(deps).map((h) => [td(h.host), td(h.down ? 'DOWN' : 'up', h.down ? 'critical' : ''), td(ago(now, h.lastHeartbeatAt)), td(ago(now, h.lastEventAt)), td(h.agentVersion)]);
  const silenceRows = deps.engine.activeSilenceList().map((s) => [td(s.id, 'mono'), td(describeMatchers(s)), td(new Date(s.startsAt).toISOString()), td(new Date(s.endsAt).toISOString()), td(s.createdBy), td(s.comment)]);
  const noteRows = deps.queue.recent.slice(0, 30).map((n) => [td(ago(now, n.at)), td(n.reason), td(n.severity, n.severity), td(n.host), td(n.rule), td(n.summary)]);
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="15"><title>offhook collector: ${alerts.length} firing</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}th{background:#f3f3f3}.critical{background:#fdd}.warning{background:#ffd}.mono{font-family:monospace}.empty{color:#666}</style></head><body>
<h1>offhook collector</h1><p>${escapeHtml(new Date(now).toISOString())} · ${alerts.length} firing · JSON: <a href="/api/alerts">alerts</a> <a href="/api/hosts">hosts</a> <a href="/api/silences">silences</a> <a href="/api/notifications">notifications</a> · <a href="/metrics">metrics</a></p>
<h2>Firing alerts</h2>${table(['severity', 'host', 'rule', 'summary', 'since', 'gen', 'state', 'fingerprint'], alertRows, 'Nothing is firing.')}
<h2>Hosts</h2>${table(['host', 'state', 'last heartbeat', 'last event', 'agent'], hostRows, 'No agent has been heard from yet.')}
<h2>Silences</h2>${table(['id', 'matchers', 'starts', 'ends', 'by', 'comment'], silenceRows, 'No active or upcoming silences.')}
<h2>Recent notifications</h2>${table(['when', 'why', 'severity', 'host', 'rule', 'summary'], noteRows, 'Nothing has been announced since the collector started.')}
</body></html>`;
}

export function statusRoutes(deps: StatusDeps): Record<string, RouteHandler> {
  return {
    '/': (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" });
      res.end(page(deps));
    },
    '/api/alerts': (_req, res, url) => json(res, url.searchParams.get('all') ? [...deps.engine.records.values()].map((r) => alertView(deps, r)) : firing(deps)),
    '/api/hosts': (_req, res) => json(res, hosts(deps)),
    '/api/silences': (_req, res) => json(res, deps.engine.activeSilenceList()),
    '/api/notifications': (_req, res) => json(res, deps.queue.recent),
  };
}
