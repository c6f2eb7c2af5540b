import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { spawnTracked } from '../../../deploy/lib/processes.ts';
import { batchOf, createNotifier, HOSTILE_SUMMARY, makeAlert, neverAborted } from './helpers.ts';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  secure: boolean;
  raw: string;
}

/** A real SMTP server on an ephemeral loopback port that keeps every message it accepts. */
async function startSmtpSink(
  options: { rejectWith?: number; tls?: { key: string; cert: string } } = {},
): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: !options.tls,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : { disabledCommands: ['STARTTLS'] }),
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'alerts' && auth.password === 'pa$$"word') return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onRcptTo(_address, _session, callback) {
      if (options.rejectWith) {
        const err = new Error('mailbox unavailable') as Error & { responseCode: number };
        err.responseCode = options.rejectWith;
        return callback(err);
      }
      callback();
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          secure: session.secure,
          raw,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function headersOf(raw: string): Map<string, string> {
  const head = raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ');
  return new Map(
    head
      .split('\r\n')
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
}

describe('notifiers: mail against a real SMTP server (smtp-server)', () => {
  it('delivers a plain-text mail with a one-line subject, using auth', async () => {
    const smtp = await startSmtpSink();
    try {
      const notifier = createNotifier('mail', {
        host: '127.0.0.1',
        port: smtp.port,
        from: 'offhook@example.com',
        to: ['ops@example.com', 'oncall@example.com'],
        username: 'alerts',
        password: 'pa$$"word',
      });
      const outcome = await notifier.notify(batchOf([makeAlert()]), neverAborted());
      await notifier.close?.();
      assert.deepEqual(outcome, { ok: true });
      const [mail] = smtp.received;
      assert.equal(mail!.from, 'offhook@example.com');
      assert.deepEqual(mail!.to, ['ops@example.com', 'oncall@example.com']);
      assert.equal(mail!.user, 'alerts');
      const headers = headersOf(mail!.raw);
      assert.equal(headers.get('subject'), '[offhook] [FIRING:1] critical web1: disk /var is 97% full');
      assert.match(headers.get('content-type')!, /^text\/plain/);
      assert.equal(headers.get('x-offhook-reason'), 'firing');
      assert.match(mail!.raw, /http:\/\/status\.example:9470\/alerts\/[0-9a-f]{16}/);
    } finally {
      await smtp.close();
    }
  });

  it('a hostile summary cannot add headers or lines to the subject', async () => {
    const smtp = await startSmtpSink();
    try {
      const notifier = createNotifier('mail', {
        host: '127.0.0.1',
        port: smtp.port,
        from: 'offhook@example.com',
        to: 'ops@example.com',
      });
      assert.deepEqual(await notifier.notify(batchOf([makeAlert({ summary: HOSTILE_SUMMARY })]), neverAborted()), {
        ok: true,
      });
      await notifier.close?.();
      const headers = headersOf(smtp.received[0]!.raw);
      assert.equal(headers.has('x-injected'), false);
      const subject = headers.get('subject')!;
      // nodemailer MIME-encodes non-ASCII subjects; decoded, it is the flattened summary on one line.
      const decoded = subject.replace(/=\?UTF-8\?Q\?([^?]*)\?=\s*/gi, (_m, q: string) =>
        Buffer.from(
          q.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
      );
      assert.match(decoded, /disk "full" it's 'bad' X-Injected: yes PRIVMSG/);
      assert.doesNotMatch(decoded, /[\r\n\u0001\u0002\u0003]/);
    } finally {
      await smtp.close();
    }
  });

  it('a 5xx refusal is permanent, a dead server is retryable, a wrong password is permanent', async () => {
    const refusing = await startSmtpSink({ rejectWith: 550 });
    try {
      const outcome = await createNotifier('mail', {
        host: '127.0.0.1',
        port: refusing.port,
        from: 'a@example.com',
        to: 'b@example.com',
      }).notify(batchOf([makeAlert()]), neverAborted());
      assert.deepEqual({ ok: outcome.ok, retry: (outcome as { retry: boolean }).retry }, { ok: false, retry: false });
      const badAuth = await createNotifier('mail', {
        host: '127.0.0.1',
        port: refusing.port,
        from: 'a@example.com',
        to: 'b@example.com',
        username: 'alerts',
        password: 'wrong',
      }).notify(batchOf([makeAlert()]), neverAborted());
      assert.deepEqual({ ok: badAuth.ok, retry: (badAuth as { retry: boolean }).retry }, { ok: false, retry: false });
    } finally {
      await refusing.close();
    }
    const gone = await createNotifier('mail', {
      host: '127.0.0.1',
      port: refusing.port,
      from: 'a@example.com',
      to: 'b@example.com',
    }).notify(batchOf([makeAlert()]), neverAborted());
    assert.deepEqual({ ok: gone.ok, retry: (gone as { retry: boolean }).retry }, { ok: false, retry: true });
  });

  describe('TLS', () => {
    let dir: string;
    let tls: { key: string; cert: string };
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'offhook-smtp-tls-'));
      const child = spawnTracked('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ]);
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, 'openssl could not make a test certificate');
      tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('upgrades with STARTTLS, verifies the server against tls_ca_file, then authenticates', async () => {
      const smtp = await startSmtpSink({ tls });
      try {
        const notifier = createNotifier('mail', {
          host: '127.0.0.1',
          port: smtp.port,
          require_tls: true,
          tls_ca_file: join(dir, 'cert.pem'),
          from: 'a@example.com',
          to: 'b@example.com',
          username: 'alerts',
          password: 'pa$$"word',
        });
        assert.deepEqual(await notifier.notify(batchOf([makeAlert()]), neverAborted()), { ok: true });
        await notifier.close?.();
        assert.equal(smtp.received[0]!.secure, true);
        assert.equal(smtp.received[0]!.user, 'alerts');
        const unverified = await createNotifier('mail', {
          host: '127.0.0.1',
          port: smtp.port,
          require_tls: true,
          from: 'a@example.com',
          to: 'b@example.com',
        }).notify(batchOf([makeAlert()]), neverAborted());
        assert.equal(unverified.ok, false, 'a self-signed certificate must not pass without tls_ca_file');
        assert.equal(smtp.received.length, 1);
      } finally {
        await smtp.close();
      }
    });

    it('require_tls refuses to send to a server without STARTTLS', async () => {
      const smtp = await startSmtpSink();
      try {
        const outcome = await createNotifier('mail', {
          host: '127.0.0.1',
          port: smtp.port,
          require_tls: true,
          from: 'a@example.com',
          to: 'b@example.com',
        }).notify(batchOf([makeAlert()]), neverAborted());
        assert.equal(outcome.ok, false);
        assert.equal(smtp.received.length, 0);
      } finally {
        await smtp.close();
      }
    });
  });
});
