import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, RouteHandler } from '../../shared/index.ts';
import type { AlertRecord } from '../alerts/index.ts';
import type { CommitQueue } from '../alerts/index.ts';
import type { AlertEngine } from '../alerts/index.ts';
import { UNTOLD, untold } from '../alerts/index.ts';
import { describeMatchers } from '../silences/index.ts';
import { formatDuration } from '../rules/summary.ts';

/** What the page reads of the engine: one engine, or a collector group member's partitions seen as one. */
export type StatusEngine = Pick<
  AlertEngine,
  'records' | 'hosts' | 'hostDown' | 'silencedBy' | 'isAcknowledged' | 'activeSilenceList'
>;

/** Each partition's owner (from the leases, so every member shows them all) and how far it is behind EVENTS. */
export interface PartitionStatus {
  partition: number;
  member: string | null;
  seq: number;
  lag: number;
}

export interface StatusDeps {
  engine: StatusEngine;
  queue: Pick<CommitQueue, 'recent'>;
  clock: Clock;
  partitions?: () => PartitionStatus[];
}

/** Everything on the page comes from agents, log lines or operators: escape it all. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body, null, 2));
}

export function alertView(deps: StatusDeps, record: AlertRecord) {
  const silence = deps.engine.silencedBy(record.alert);
  return {
    ...record.alert,
    silencedBy: silence?.id ?? null,
    acknowledgedBy: deps.engine.isAcknowledged(record) ? record.ack!.by : null,
    lastNotifiedAt: record.lastNotifiedAt,
    /** Its firing (or rise) came from a replay of history and nobody was told (alerts/replay-window.ts). */
    quiet: record.quiet,
    /** What of it nobody was told, while it fires: "not announced: replayed history"; null when told. */
    untold: untold(record),
  };
}

export function firing(deps: StatusDeps) {
  const rank = { critical: 0, warning: 1, info: 2 } as const;
  return [...deps.engine.records.values()]
    .filter((r) => r.alert.status === 'firing')
    .sort((a, b) => rank[a.alert.severity] - rank[b.alert.severity] || a.alert.startsAt - b.alert.startsAt)
    .map((r) => alertView(deps, r));
}

export function hosts(deps: StatusDeps) {
  return [...deps.engine.hosts()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, info]) => ({ host, ...info, down: deps.engine.hostDown(host) }));
}

function ago(now: number, at: number): string {
  if (at <= 0) return 'never';
  return now - at < 1000 ? 'just now' : `${formatDuration(now - at)} ago`;
}

function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${escapeHtml(empty)}</p>`;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  return `<table><tr>${head}</tr>${rows.map((r) => `<tr>${r.join('')}</tr>`).join('')}</table>`;
}
const td = (value: unknown, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(value)}</td>`;

const STYLE = `<style>${[
  'body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}',
  'table{border-collapse:collapse;margin-bottom:1.5em}',
  'td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}',
  'th{background:#f3f3f3}',
  '.critical{background:#fdd}',
  '.warning{background:#ffd}',
  '.mono{font-family:monospace}',
  '.empty{color:#666}',
].join('')}</style>`;

/** "alice at <time> until <time>: comment", or "no". */
function ackText(ack: AlertRecord['ack']): string {
  if (!ack) return 'no';
  const until = ack.until ? ` until ${new Date(ack.until).toISOString()}` : '';
  return `${ack.by} at ${new Date(ack.at).toISOString()}${until}${ack.comment ? `: ${ack.comment}` : ''}`;
}

/** /alerts/<fingerprint>: the page notifications link to. */
function alertPage(deps: StatusDeps, fp: string): string | null {
  const record = deps.engine.records.get(fp);
  if (!record) return null;
  const now = deps.clock.now();
  const view = alertView(deps, record);
  const fields: [string, unknown][] = [
    ['status', view.untold ? `${view.status} (${view.untold})` : view.status],
    ['severity', view.severity],
    ['host', view.host],
    ['rule', `${view.rule} (${view.ruleKind})`],
    ['summary', view.summary],
    ['value', view.value ?? '-'],
    [
      'labels',
      Object.entries(view.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '-',
    ],
    ['started', `${new Date(view.startsAt).toISOString()} (${ago(now, view.startsAt)})`],
    ['ended', view.endsAt ? new Date(view.endsAt).toISOString() : '-'],
    ['generation', view.generation],
    ['acknowledged', ackText(record.ack)],
    ['silenced by', view.silencedBy ?? 'no'],
    ['held back (host down or inhibit rule)', view.inhibited ? 'yes' : 'no'],
    ['last notified', ago(now, view.lastNotifiedAt)],
    ['fingerprint', view.fingerprint],
  ];
  const notes = deps.queue.recent
    .filter((n) => n.fingerprint === fp)
    .map((n) => [td(ago(now, n.at)), td(n.reason), td(n.severity, n.severity), td(`g${n.generation}`), td(n.summary)]);
  const title = `${escapeHtml(view.host)} ${escapeHtml(view.rule)}: ${escapeHtml(view.status)}`;
  const noteTable = table(['when', 'why', 'severity', 'generation', 'summary'], notes, 'None.');
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${STYLE}</head><body>
<p><a href="/">← all alerts</a></p><h1>${escapeHtml(view.summary)}</h1>
<table>${fields.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th>${td(v)}</tr>`).join('')}</table>
<h2>Notifications since the collector started</h2>${noteTable}
<p>Acknowledge: <code>offhook ack ${escapeHtml(fp)} -c "what you are doing"</code></p></body></html>`;
}

function page(deps: StatusDeps): string {
  const now = deps.clock.now();
  const alerts = firing(deps);
  const untoldCount = alerts.filter((a) => a.untold).length;
  const firingText = `${alerts.length} firing${untoldCount ? ` (${untoldCount} ${UNTOLD})` : ''}`;
  const alertRows = alerts.map((a) => [
    td(a.severity, a.severity),
    td(a.host),
    td(a.rule),
    td(a.summary),
    td(ago(now, a.startsAt)),
    td(a.generation),
    td(
      [
        a.untold ?? '',
        a.inhibited ? 'inhibited' : '',
        a.silencedBy ? `silenced (${a.silencedBy})` : '',
        a.acknowledgedBy ? `acked by ${a.acknowledgedBy}` : '',
      ]
        .filter(Boolean)
        .join(', ') || 'notified',
    ),
    `<td class="mono"><a href="/alerts/${escapeHtml(a.fingerprint)}">${escapeHtml(a.fingerprint)}</a></td>`,
  ]);
  const hostRows = hosts(deps).map((h) => [
    td(h.host),
    td(h.down ? 'DOWN' : 'up', h.down ? 'critical' : ''),
    td(ago(now, h.lastHeartbeatAt)),
    td(ago(now, h.lastEventAt)),
    td(h.agentVersion),
  ]);
  const silenceRows = deps.engine
    .activeSilenceList()
    .map((s) => [
      td(s.id, 'mono'),
      td(describeMatchers(s)),
      td(new Date(s.startsAt).toISOString()),
      td(new Date(s.endsAt).toISOString()),
      td(s.createdBy),
      td(s.comment),
    ]);
  const partitionRows = (deps.partitions?.() ?? []).map((p) => [
    td(p.partition),
    td(p.member ?? 'none', p.member ? '' : 'critical'),
    td(p.seq),
    td(p.lag),
  ]);
  const noteRows = deps.queue.recent
    .slice(0, 30)
    .map((n) => [td(ago(now, n.at)), td(n.reason), td(n.severity, n.severity), td(n.host), td(n.rule), td(n.summary)]);
  const alertColumns = ['severity', 'host', 'rule', 'summary', 'since', 'gen', 'state', 'fingerprint'];
  const hostColumns = ['host', 'state', 'last heartbeat', 'last event', 'agent'];
  const silenceColumns = ['id', 'matchers', 'starts', 'ends', 'by', 'comment'];
  const json = ['alerts', 'hosts', 'silences', 'notifications'].map((api) => `<a href="/api/${api}">${api}</a>`);
  const partitionTable = table(['partition', 'owner', 'EVENTS seq', 'lag'], partitionRows, '');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">\
<title>offhook collector: ${alerts.length} firing</title>
${STYLE}</head><body>
<h1>offhook collector</h1><p>${escapeHtml(new Date(now).toISOString())} · ${escapeHtml(firingText)} · \
JSON: ${json.join(' ')} · <a href="/metrics">metrics</a></p>
<h2>Firing alerts</h2>${table(alertColumns, alertRows, 'Nothing is firing.')}
<h2>Hosts</h2>${table(hostColumns, hostRows, 'No agent has been heard from yet.')}
<h2>Silences</h2>${table(silenceColumns, silenceRows, 'No active or upcoming silences.')}
<h2>Recent notifications</h2>${table(
    ['when', 'why', 'severity', 'host', 'rule', 'summary'],
    noteRows,
    'Nothing has been announced since the collector started.',
  )}
${partitionRows.length > 1 ? `<h2>Partitions</h2>${partitionTable}` : ''}
</body></html>`;
}

export function statusRoutes(deps: StatusDeps): Record<string, RouteHandler> {
  // '/alerts/' comes before '/': prefix routes match in insertion order.
  return {
    '/alerts/': (_req, res, url) => {
      const fp = url.pathname.slice('/alerts/'.length);
      const html = /^[0-9a-f]{16}$/.test(fp) ? alertPage(deps, fp) : null;
      res.writeHead(html ? 200 : 404, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      res.end(
        html ??
          `<!doctype html><p>No alert with fingerprint ${escapeHtml(fp.slice(0, 40))}. <a href="/">All alerts</a></p>`,
      );
    },
    '/': (_req: IncomingMessage, res: ServerResponse, url: URL) => {
      if (url.pathname !== '/') {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('not found\n');
        return;
      }
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      });
      res.end(page(deps));
    },
    '/api/alerts': (_req, res, url) =>
      json(
        res,
        url.searchParams.get('all') ? [...deps.engine.records.values()].map((r) => alertView(deps, r)) : firing(deps),
      ),
    '/api/hosts': (_req, res) => json(res, hosts(deps)),
    '/api/silences': (_req, res) => json(res, deps.engine.activeSilenceList()),
    '/api/notifications': (_req, res) => json(res, deps.queue.recent),
    '/api/partitions': (_req, res) => json(res, deps.partitions?.() ?? []),
  };
}
