import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { oneLine } from '../../../collector/notify/text.ts';
import { TRAC_FINGERPRINT_FIELD } from '../../../collector/notify/trac.ts';
import { batchOf, createNotifier, HOSTILE_SUMMARY, makeAlert, neverAborted, resolvedCopy } from './helpers.ts';

const SCHEMA = readFileSync(new URL('./fixtures/trac-1.x-ticket-schema.sql', import.meta.url), 'utf8');

interface TicketRow {
  id: number;
  type: string;
  time: number;
  changetime: number;
  priority: string;
  owner: string;
  reporter: string;
  status: string;
  resolution: string;
  summary: string;
  description: string;
  keywords: string;
  component: string;
}

describe('notifiers: trac against a real SQLite database with the Trac 1.x schema', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-trac-'));
    file = join(dir, 'trac.db');
    const db = new Database(file);
    db.exec(SCHEMA);
    db.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = <T>(sql: string, ...params: unknown[]): T[] => {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare(sql).all(...params) as T[];
    } finally {
      db.close();
    }
  };

  it('opens one ticket per firing alert, once, even when retried', async () => {
    const notifier = createNotifier('trac', { database: file, component: 'ops', owner: 'alice' });
    const alerts = [makeAlert(), makeAlert({ rule: 'load', severity: 'warning', summary: 'load is 12' })];
    assert.deepEqual(await notifier.notify(batchOf(alerts), neverAborted()), { ok: true });
    assert.deepEqual(await notifier.notify(batchOf(alerts), neverAborted()), { ok: true });
    await notifier.close?.();
    const tickets = read<TicketRow>('SELECT * FROM ticket ORDER BY id');
    assert.equal(tickets.length, 2);
    const [disk, load] = tickets;
    assert.equal(disk!.summary, 'web1: disk /var is 97% full');
    assert.equal(disk!.priority, 'critical');
    assert.equal(load!.priority, 'major');
    assert.equal(disk!.status, 'assigned');
    assert.equal(disk!.owner, 'alice');
    assert.equal(disk!.reporter, 'offhook');
    assert.equal(disk!.component, 'ops');
    assert.equal(disk!.type, 'defect');
    assert.equal(disk!.keywords, 'offhook');
    assert.ok(disk!.time > 1e15, 'Trac 1.x times are microseconds');
    assert.match(disk!.description, new RegExp(`/alerts/${alerts[0]!.fingerprint}`));
    const custom = read<{ ticket: number; value: string }>(
      'SELECT ticket, value FROM ticket_custom WHERE name = ? ORDER BY ticket',
      TRAC_FINGERPRINT_FIELD,
    );
    assert.deepEqual(custom, [
      { ticket: disk!.id, value: `${alerts[0]!.fingerprint}.1` },
      { ticket: load!.id, value: `${alerts[1]!.fingerprint}.1` },
    ]);
  });

  it('on resolve adds a numbered comment (on_resolve: comment)', async () => {
    const notifier = createNotifier('trac', { database: file });
    const alert = makeAlert();
    await notifier.notify(batchOf([alert]), neverAborted());
    assert.deepEqual(await notifier.notify(batchOf([resolvedCopy(alert)], 'resolved'), neverAborted()), { ok: true });
    await notifier.close?.();
    const changes = read<{ field: string; oldvalue: string; newvalue: string; author: string }>(
      'SELECT field, oldvalue, newvalue, author FROM ticket_change',
    );
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.field, 'comment');
    assert.equal(changes[0]!.oldvalue, '1');
    assert.equal(changes[0]!.author, 'offhook');
    assert.match(changes[0]!.newvalue, /^Resolved at 2023-11-14T22:14:20\.000Z/);
    assert.equal(read<TicketRow>('SELECT * FROM ticket')[0]!.status, 'new');
  });

  it('on resolve closes the ticket with the resolution (on_resolve: close)', async () => {
    const notifier = createNotifier('trac', { database: file, on_resolve: 'close', resolution: 'worksforme' });
    const alert = makeAlert();
    await notifier.notify(batchOf([alert]), neverAborted());
    await notifier.notify(batchOf([resolvedCopy(alert)], 'resolved'), neverAborted());
    await notifier.notify(batchOf([resolvedCopy(alert)], 'resolved'), neverAborted()); // closed tickets are left alone
    await notifier.close?.();
    const [ticket] = read<TicketRow>('SELECT * FROM ticket');
    assert.equal(ticket!.status, 'closed');
    assert.equal(ticket!.resolution, 'worksforme');
    const changes = read<{ field: string; oldvalue: string; newvalue: string; time: number }>(
      'SELECT field, oldvalue, newvalue, time FROM ticket_change ORDER BY field',
    );
    assert.deepEqual(
      changes.map((c) => [c.field, c.oldvalue, c.field === 'comment' ? 'text' : c.newvalue]),
      [
        ['comment', '1', 'text'],
        ['resolution', '', 'worksforme'],
        ['status', 'new', 'closed'],
      ],
    );
    assert.equal(new Set(changes.map((c) => c.time)).size, 1, 'one change, one timestamp');
    assert.equal(ticket!.changetime, changes[0]!.time);
  });

  it('stores a hostile summary as data: no SQL runs, wiki markup stays inside a verbatim block', async () => {
    const notifier = createNotifier('trac', { database: file });
    const alert = makeAlert({ summary: HOSTILE_SUMMARY });
    assert.deepEqual(await notifier.notify(batchOf([alert]), neverAborted()), { ok: true });
    await notifier.close?.();
    const [ticket] = read<TicketRow>('SELECT * FROM ticket');
    assert.equal(ticket!.summary, oneLine(`web1: ${HOSTILE_SUMMARY}`, 250));
    const block = /^\{\{\{\n([\s\S]*?)\n\}\}\}/.exec(ticket!.description)!;
    assert.equal(block[1], HOSTILE_SUMMARY.replace('}}}', '} } }'));
    assert.equal(read('SELECT name FROM sqlite_master WHERE name = ?', 'ticket').length, 1);
  });

  it('a missing database is permanent; a locked one is retryable', async () => {
    const missing = await createNotifier('trac', { database: join(dir, 'absent.db') }).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.deepEqual({ ok: missing.ok, retry: (missing as { retry: boolean }).retry }, { ok: false, retry: false });
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const notifier = createNotifier('trac', { database: file, busy_timeout_ms: 0 });
      const locked = await notifier.notify(batchOf([makeAlert()]), neverAborted());
      await notifier.close?.();
      assert.equal(locked.ok, false);
      assert.equal((locked as { retry: boolean }).retry, true, (locked as { error: string }).error);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });
});
