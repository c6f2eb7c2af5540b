import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAndWait } from '../../../shared/child-process.ts';
import { oneLine } from '../../../collector/notify/text.ts';
import { tracModeNotices } from '../../../collector/notify/trac.ts';
import { decodeResponse, encodeCall } from '../../../collector/notify/xmlrpc.ts';
import { batchOf, createNotifier, HOSTILE_SUMMARY, makeAlert, neverAborted, resolvedCopy } from './helpers.ts';

const SERVER = fileURLToPath(new URL('./fixtures/trac-xmlrpc-server.py', import.meta.url));

interface Call {
  method: string;
  params: unknown[];
}

/**
 * A real Trac is not installable here; the far end is Python's xmlrpc.server with XmlRpcPlugin's ticket.* signatures
 * behind HTTP Basic auth, so our encoding is decoded by an independent implementation and its answers by ours.
 */
describe('notifiers: trac mode xmlrpc against Python xmlrpc.server', () => {
  let dir: string;
  let log: string;
  let server: ChildProcess;
  let url: string;
  let passwordFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-trac-rpc-'));
    log = join(dir, 'calls.jsonl');
    passwordFile = join(dir, 'password');
    writeFileSync(passwordFile, 's3cret:&<pw>\n');
    server = spawn('python3', [SERVER, log, 'offhook', 's3cret:&<pw>'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      server.once('error', reject);
      server.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    });
    url = `http://127.0.0.1:${port}/trac/`;
  });
  after(async () => {
    await killAndWait(server);
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => rmSync(log, { force: true }));

  const calls = (): Call[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as Call)
      : [];
  const options = (extra: Record<string, unknown> = {}) => ({
    url,
    user: 'offhook',
    password_file: passwordFile,
    component: 'monitoring',
    ...extra,
  });

  it('creates a ticket on firing and closes it on resolve, as Python decodes the calls', async () => {
    const notifier = createNotifier('trac', options({ on_resolve: 'close', resolution: 'worksforme' }));
    const alert = makeAlert({ summary: HOSTILE_SUMMARY, severity: 'critical' });
    assert.deepEqual(await notifier.notify(batchOf([alert]), neverAborted()), { ok: true });
    // A retry of the same batch must not open a second ticket.
    assert.deepEqual(await notifier.notify(batchOf([alert]), neverAborted()), { ok: true });
    assert.deepEqual(await notifier.notify(batchOf([resolvedCopy(alert)], 'resolved'), neverAborted()), { ok: true });
    const [create, update, ...rest] = calls();
    assert.equal(rest.length, 0);
    assert.equal(create?.method, 'ticket.create');
    const [summary, description, attrs, notify] = (create?.params ?? []) as [
      string,
      string,
      Record<string, string>,
      boolean,
    ];
    assert.equal(summary, oneLine(`${alert.host}: ${alert.summary}`, 250));
    // XML 1.0 cannot carry C0 control characters even escaped; everything else (CR, quotes, }}}) arrives intact.
    const carried = alert.summary.replace(/}}}/g, '} } }').replace(/[\u0001-\u0008\u000b\u000c\u000e-\u001f]/g, '');
    assert.ok(description.includes(carried), description);
    assert.equal(attrs.priority, 'critical');
    assert.equal(attrs.component, 'monitoring');
    assert.equal(attrs.offhook_alert, `${alert.fingerprint}.${alert.generation}`);
    assert.equal(notify, true);
    assert.equal(update?.method, 'ticket.update');
    assert.deepEqual(update?.params.slice(0, 1), [1]);
    assert.deepEqual(update?.params[2], { action: 'resolve', action_resolve_resolve_resolution: 'worksforme' });
    assert.match(String(update?.params[1]), /^Resolved at /);
  });

  it('finds the ticket with ticket.query after a restart and comments on it', async () => {
    const alert = makeAlert({ fingerprint: '00000000000000ff' });
    assert.deepEqual(await createNotifier('trac', options()).notify(batchOf([alert]), neverAborted()), { ok: true });
    const fresh = createNotifier('trac', options());
    assert.deepEqual(await fresh.notify(batchOf([resolvedCopy(alert)], 'resolved'), neverAborted()), { ok: true });
    const methods = calls().map((c) => c.method);
    assert.deepEqual(methods, ['ticket.create', 'ticket.query', 'ticket.update']);
    assert.deepEqual(calls()[2]?.params[2], { action: 'leave' });
  });

  it('reports a fault with its code and string, not retryable', async () => {
    const notifier = createNotifier('trac', options());
    const outcome = await notifier.notify(batchOf([makeAlert({ summary: 'FAULT please' })]), neverAborted());
    assert.deepEqual(outcome, {
      ok: false,
      retry: false,
      error: 'XML-RPC fault 1: ticket.create: field "priority" is invalid <&>',
    });
  });

  it('a 401 is not retryable and says what to check', async () => {
    const wrong = join(dir, 'wrong');
    writeFileSync(wrong, 'nope');
    const outcome = await createNotifier('trac', options({ password_file: wrong })).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.equal(outcome.ok, false);
    assert.ok(!outcome.ok && !outcome.retry && /HTTP 401 .*user and password/.test(outcome.error));
    assert.deepEqual(calls(), []);
  });

  it('a refused connection is retryable', async () => {
    const outcome = await createNotifier('trac', options({ url: 'http://127.0.0.1:1/' })).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.ok(!outcome.ok && outcome.retry);
  });
});

describe('xmlrpc codec', () => {
  it('round-trips the value types through a response', () => {
    const call = encodeCall('x', [1, true, 'a<&>', [2], { k: 'v' }, new Date(Date.UTC(2026, 0, 2, 3, 4, 5))]);
    assert.ok(call.includes('<string>a&lt;&amp;&gt;</string>'));
    assert.ok(
      call.includes('<dateTime.iso8601>20260102T03:04:05</dateTime.iso8601>') || call.includes('20260102T030405'),
    );
    const xml =
      '<?xml version="1.0"?><methodResponse><params><param><value><array><data><value><i4>7</i4></value>' +
      '<value>bare</value><value><struct><member><name>a</name><value><boolean>1</boolean></value></member>' +
      '</struct></value></data></array></value></param></params></methodResponse>';
    assert.deepEqual(decodeResponse(xml), [7, 'bare', { a: true }]);
  });
});

describe('trac config modes', () => {
  it('an old config with database only still means sqlite, with a check-config notice', () => {
    const input = { notifications: { receivers: [{ name: 't', kind: 'trac', database: '/x/trac.db' }] } };
    assert.match(tracModeNotices(input)[0] ?? '', /notifications\.receivers\.0: .*mode: sqlite/);
    const explicit = { notifications: { receivers: [{ name: 't', kind: 'trac', mode: 'sqlite', database: '/x' }] } };
    assert.deepEqual(tracModeNotices(explicit), []);
  });
  it('xmlrpc without user is refused, naming what is missing', () => {
    assert.throws(() => createNotifier('trac', { url: 'http://127.0.0.1:1/' }), /needs url and user/);
  });
});
