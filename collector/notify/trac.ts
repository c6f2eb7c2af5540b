import type Database from 'better-sqlite3';
import * as z from 'zod';
import { type Alert, rfc3339 } from '../../shared/index.ts';
import { alertUrl, fallbackNote, oneLine } from './text.ts';
import { createTracRpc } from './trac-xmlrpc.ts';
import { defineNotifier, type NotificationBatch } from './types.ts';

/** ticket_custom field holding "<fingerprint>.<generation>", how a resolve finds its ticket. */
export const TRAC_FINGERPRINT_FIELD = 'offhook_alert';

/**
 * better-sqlite3 is a native addon: imported on the first write, so a collector without a trac notifier (and every
 * packaged collector without the offhook-trac-sqlite package) never needs it.
 */
async function loadSqlite(): Promise<typeof Database> {
  try {
    return (await import('better-sqlite3')).default;
  } catch (err) {
    throw new Error(
      `the trac notifier needs the better-sqlite3 module (${(err as Error).message}); ` +
        'on a packaged install: apt install offhook-trac-sqlite',
      { cause: err },
    );
  }
}

const usNow = (): number => Date.now() * 1000; // Trac 1.x stores times as microseconds since the epoch.

/** Text inside a Trac wiki {{{ }}} block shows verbatim; only a closing }}} could escape it. */
function verbatim(text: string): string {
  return `{{{\n${text.replace(/}}}/g, '} } }')}\n}}}`;
}

function description(alert: Alert, batch: NotificationBatch): string {
  const facts = [
    `host: ${alert.host}`,
    `rule: ${alert.rule}`,
    `severity: ${alert.severity}`,
    `value: ${alert.value ?? ''}`,
    `started: ${rfc3339(alert.startsAt)}`,
    ...Object.entries(alert.labels).map(([k, v]) => `label ${k}: ${oneLine(v)}`),
    `fingerprint: ${alert.fingerprint} (generation ${alert.generation})`,
  ];
  const why =
    batch.reason === 'fallback'
      ? `${verbatim(`The gateway did not phone anyone: ${fallbackNote(batch.fallbackReason)}`)}\n\n`
      : '';
  const link = `Status page: ${alertUrl(batch.externalUrl, alert)}`;
  return `${why}${verbatim(alert.summary)}\n\n${verbatim(facts.join('\n'))}\n\n${link}\n`;
}

interface TracModeFields {
  mode?: 'xmlrpc' | 'sqlite';
  url?: string;
  user?: string;
  database?: string;
}

/** The mode a trac receiver runs in (xmlrpc when `url` is set) and what it lacks: for the schema and create(). */
function tracMode(c: TracModeFields): { mode: 'xmlrpc' | 'sqlite'; missing?: string } {
  const mode = c.mode ?? (c.url ? 'xmlrpc' : 'sqlite');
  if (mode === 'xmlrpc' && (!c.url || !c.user))
    return { mode, missing: 'mode xmlrpc needs url and user (and password_file or password_env)' };
  if (mode === 'sqlite' && !c.database) return { mode, missing: 'mode sqlite needs database: <env>/db/trac.db' };
  return { mode };
}

/**
 * Opens a ticket per firing alert in a Trac 1.x SQLite database (App::MadEye's Notify::Trac) and,
 * on resolve, comments on it or closes it. All values go through bound parameters; the alert text
 * sits in wiki verbatim blocks so it cannot run macros or links.
 */
export const tracPlugin = defineNotifier({
  kind: 'trac',
  configSchema: z
    .object({
      /** xmlrpc (XmlRpcPlugin, the default when `url` is set) or sqlite (writes db/trac.db directly). */
      mode: z.enum(['xmlrpc', 'sqlite']).optional(),
      /** The Trac environment's db/trac.db (mode: sqlite). */
      database: z.string().min(1).optional(),
      /** The Trac project's base URL (mode: xmlrpc); calls go to <url>/login/rpc. */
      url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
      user: z.string().min(1).optional(),
      /** File or environment variable holding the password, so the secret stays out of collector.yaml. */
      password_file: z.string().min(1).optional(),
      password_env: z.string().min(1).optional(),
      reporter: z.string().min(1).default('offhook'),
      owner: z.string().default(''),
      component: z.string().default(''),
      milestone: z.string().default(''),
      type: z.string().min(1).default('defect'),
      keywords: z.string().default('offhook'),
      /** Trac priority per alert severity. */
      priority: z
        .object({
          info: z.string().default('minor'),
          warning: z.string().default('major'),
          critical: z.string().default('critical'),
        })
        .strict()
        .prefault({}),
      /** What a resolve does to the ticket: add a comment, or close it as `resolution`. */
      on_resolve: z.enum(['comment', 'close']).default('comment'),
      resolution: z.string().min(1).default('fixed'),
      /** How long to wait for Trac's own writers to release the database. */
      busy_timeout_ms: z.number().int().min(0).default(5000),
    })
    .superRefine((c, ctx) => {
      const { missing } = tracMode(c);
      if (missing) ctx.addIssue({ code: 'custom', message: missing });
    }),
  create(config) {
    // The receiver schema carries the superRefine above (notify/config.ts); checked again for callers that skip it.
    const { mode, missing } = tracMode(config);
    if (missing) throw new Error(`trac: ${missing}`);
    if (mode === 'xmlrpc') {
      const send = createTracRpc({
        url: config.url ?? '',
        user: config.user ?? '',
        password_file: config.password_file,
        password_env: config.password_env,
        reporter: config.reporter,
        fingerprintField: TRAC_FINGERPRINT_FIELD,
        ticketFields: (alert, batch) => ({
          summary: oneLine(`${alert.host}: ${alert.summary}`, 250),
          description: description(alert, batch),
        }),
        attributes: (alert) => ({
          type: config.type,
          priority: config.priority[alert.severity],
          owner: config.owner,
          component: config.component,
          milestone: config.milestone,
          keywords: config.keywords,
          reporter: config.reporter,
        }),
        resolveComment: (alert, resolvedAt) => `Resolved at ${resolvedAt}:\n${verbatim(alert.summary)}`,
        on_resolve: config.on_resolve,
        resolution: config.resolution,
      });
      return {
        notify: (batch, signal) => send(batch, signal),
        async close() {},
      };
    }
    const database = config.database ?? '';
    let db: Database.Database | null = null;
    const open = async (): Promise<Database.Database> => {
      if (!db) {
        const SqliteDatabase = await loadSqlite();
        db = new SqliteDatabase(database, { fileMustExist: true, timeout: config.busy_timeout_ms });
      }
      return db;
    };
    const ticketFor = (conn: Database.Database, alert: Alert): { id: number; status: string } | undefined =>
      conn
        .prepare(
          `SELECT t.id AS id, t.status AS status FROM ticket t JOIN ticket_custom c ON c.ticket = t.id ` +
            `WHERE c.name = ? AND c.value = ? ORDER BY t.id DESC LIMIT 1`,
        )
        .get(TRAC_FINGERPRINT_FIELD, `${alert.fingerprint}.${alert.generation}`) as
        | { id: number; status: string }
        | undefined;

    const openTicket = (conn: Database.Database, alert: Alert, batch: NotificationBatch): void => {
      // Idempotent: a retry after a partial failure must not open a second ticket.
      if (ticketFor(conn, alert)) return;
      const now = usNow();
      const result = conn
        .prepare(
          `INSERT INTO ticket (type, time, changetime, component, severity, priority, owner, reporter, cc, version,
             milestone, status, resolution, summary, description, keywords)
           VALUES (?, ?, ?, ?, '', ?, ?, ?, '', '', ?, ?, '', ?, ?, ?)`,
        )
        .run(
          config.type,
          now,
          now,
          config.component,
          config.priority[alert.severity],
          config.owner,
          config.reporter,
          config.milestone,
          config.owner ? 'assigned' : 'new',
          oneLine(`${alert.host}: ${alert.summary}`, 250),
          description(alert, batch),
          config.keywords,
        );
      conn
        .prepare('INSERT INTO ticket_custom (ticket, name, value) VALUES (?, ?, ?)')
        .run(result.lastInsertRowid, TRAC_FINGERPRINT_FIELD, `${alert.fingerprint}.${alert.generation}`);
    };

    const resolveTicket = (conn: Database.Database, alert: Alert): void => {
      const ticket = ticketFor(conn, alert);
      if (!ticket || ticket.status === 'closed') return;
      const now = usNow();
      const comments = (
        conn
          .prepare(`SELECT COUNT(*) AS n FROM ticket_change WHERE ticket = ? AND field = 'comment'`)
          .get(ticket.id) as { n: number }
      ).n;
      const change = conn.prepare(
        'INSERT INTO ticket_change (ticket, time, author, field, oldvalue, newvalue) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const resolvedAt = alert.endsAt > 0 ? rfc3339(alert.endsAt) : rfc3339(Date.now());
      change.run(
        ticket.id,
        now,
        config.reporter,
        'comment',
        String(comments + 1),
        `Resolved at ${resolvedAt}:\n${verbatim(alert.summary)}`,
      );
      if (config.on_resolve === 'close') {
        change.run(ticket.id, now, config.reporter, 'status', ticket.status, 'closed');
        change.run(ticket.id, now, config.reporter, 'resolution', '', config.resolution);
        conn
          .prepare(`UPDATE ticket SET status = 'closed', resolution = ?, changetime = ? WHERE id = ?`)
          .run(config.resolution, now, ticket.id);
      } else {
        conn.prepare('UPDATE ticket SET changetime = ? WHERE id = ?').run(now, ticket.id);
      }
    };

    return {
      async notify(batch, signal) {
        if (signal.aborted) return { ok: false, retry: true, error: 'aborted before writing' };
        try {
          const conn = await open();
          conn.transaction(() => {
            for (const alert of batch.alerts) {
              if (alert.status === 'resolved') resolveTicket(conn, alert);
              else openTicket(conn, alert, batch);
            }
          })();
          return { ok: true };
        } catch (err) {
          const error = err as Error & { code?: string };
          // A busy or locked database is Trac at work; a missing file or table is a config error.
          const retry = error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED';
          if (!retry && db) {
            db.close();
            db = null;
          }
          return { ok: false, retry, error: `${error.code ?? 'error'}: ${error.message}` };
        }
      },
      async close() {
        db?.close();
        db = null;
      },
    };
  },
});

/** check-config's notice for a trac receiver that relies on the old implicit SQLite mode. */
export function tracModeNotices(input: Record<string, unknown>): string[] {
  const receivers = (input.notifications as { receivers?: unknown } | null | undefined)?.receivers;
  if (!Array.isArray(receivers)) return [];
  return receivers.flatMap((r: unknown, i) => {
    const rec = r as { kind?: unknown; mode?: unknown; database?: unknown } | null;
    if (rec?.kind !== 'trac' || rec.mode !== undefined || rec.database === undefined) return [];
    return [
      `notifications.receivers.${i}: a trac receiver with database and no mode writes Trac's SQLite file directly; ` +
        'say mode: sqlite to keep that, or switch to mode: xmlrpc with url and user (XmlRpcPlugin)',
    ];
  });
}
