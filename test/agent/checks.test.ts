import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  probe,
  selfSignedCertificate,
  tcpServer,
  onLines,
  upgradeServerSide,
  type SelfSigned,
  type TestServer,
} from './probe-helpers.ts';
import { tempDir } from './helpers.ts';

async function listen(server: HttpServer): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('agent checks against real local servers', () => {
  const dir = tempDir();
  let tls: SelfSigned;
  let shortTls: SelfSigned;
  const cleanups: (() => Promise<void>)[] = [];

  before(() => {
    tls = selfSignedCertificate(dir.path, 365);
    shortTls = selfSignedCertificate(dir.path, 3);
  });
  after(async () => {
    for (const close of cleanups) await close();
    dir.remove();
  });

  describe('tcp', () => {
    it('is ok with a latency when the port accepts, critical when refused', async () => {
      const server = await tcpServer((s) => s.end());
      cleanups.push(() => server.close());
      const ok = await probe({ kind: 'tcp', port: server.port });
      assert.equal(ok.status, 'ok');
      assert.ok(typeof ok.latencyMs === 'number' && ok.latencyMs >= 0);
      await server.close();
      const refused = await probe({ kind: 'tcp', port: server.port });
      assert.equal(refused.status, 'critical');
      assert.match(refused.message, /ECONNREFUSED/);
      assert.equal(refused.latencyMs, null);
    });
  });

  describe('http / https', () => {
    let http: { url: string; close(): Promise<void> };
    let https: { url: string; close(): Promise<void> };
    let shortHttps: { url: string; close(): Promise<void> };
    const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
      if (req.url === '/health') return void res.end('{"status": "ok"}');
      if (req.url === '/broken') return void res.writeHead(500).end('oops');
      if (req.url === '/moved') return void res.writeHead(302, { location: '/health' }).end();
      if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      res.writeHead(404).end('not here');
    };
    before(async () => {
      http = await listen(createHttpServer(handler));
      https = await listen(createHttpsServer({ key: tls.key, cert: tls.cert }, handler) as unknown as HttpServer);
      shortHttps = await listen(
        createHttpsServer({ key: shortTls.key, cert: shortTls.cert }, handler) as unknown as HttpServer,
      );
      cleanups.push(
        () => http.close(),
        () => https.close(),
        () => shortHttps.close(),
      );
    });

    it('checks status and body regex', async () => {
      const ok = await probe({ kind: 'http', url: `http://${http.url}/health`, body_regex: '"status":\\s*"ok"' });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /HTTP 200/);
      assert.ok(ok.metrics!.some((m) => m.name === 'probe_http_status_code' && m.value === 200));
      const wrongBody = await probe({ kind: 'http', url: `http://${http.url}/health`, body_regex: 'healthy' });
      assert.equal(wrongBody.status, 'critical');
      assert.match(wrongBody.message, /body does not match/);
      const broken = await probe({ kind: 'http', url: `http://${http.url}/broken` });
      assert.equal(broken.status, 'critical');
      assert.match(broken.message, /status 500, expected 2xx/);
      const accepted = await probe({ kind: 'http', url: `http://${http.url}/broken`, expect_status: [500] });
      assert.equal(accepted.status, 'ok');
    });

    it('applies the redirect policy', async () => {
      const none = await probe({ kind: 'http', url: `http://${http.url}/moved` });
      assert.equal(none.status, 'critical');
      assert.match(none.message, /status 302/);
      assert.equal((await probe({ kind: 'http', url: `http://${http.url}/moved`, expect_status: [302] })).status, 'ok');
      const follow = await probe({
        kind: 'http',
        url: `http://${http.url}/moved`,
        redirects: 'follow',
        body_regex: 'ok',
      });
      assert.equal(follow.status, 'ok', follow.message);
      const loop = await probe({ kind: 'http', url: `http://${http.url}/loop`, redirects: 'follow', max_redirects: 3 });
      assert.equal(loop.status, 'critical');
      assert.match(loop.message, /more than 3 redirects/);
    });

    it('https: refuses a self-signed certificate unless insecure, and reports days to expiry', async () => {
      const strict = await probe({ kind: 'https', url: `https://${https.url}/health` });
      assert.equal(strict.status, 'critical');
      assert.match(strict.message, /self[- ]signed/i);
      const insecure = await probe({ kind: 'https', url: `https://${https.url}/health`, insecure: true });
      assert.equal(insecure.status, 'ok', insecure.message);
      const days = insecure.metrics!.find((m) => m.name === 'probe_ssl_cert_days_left')!.value;
      assert.ok(days >= 363 && days <= 365, `days left ${days}`);
      const expiring = await probe({
        kind: 'https',
        url: `https://${shortHttps.url}/health`,
        insecure: true,
        cert_warn_days: 21,
        cert_crit_days: 7,
      });
      assert.equal(expiring.status, 'critical');
      assert.match(expiring.message, /expires in [23] days/);
      const warn = await probe({
        kind: 'https',
        url: `https://${shortHttps.url}/health`,
        insecure: true,
        cert_warn_days: 21,
        cert_crit_days: 1,
      });
      assert.equal(warn.status, 'warning');
    });
  });

  describe('banner protocols', () => {
    let servers: Record<string, TestServer>;
    before(async () => {
      servers = {
        ssh: await tcpServer((s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')),
        notSsh: await tcpServer((s) => s.write('HTTP/1.1 400 Bad Request\r\n')),
        ftp: await tcpServer((s) => {
          s.write('220-Welcome\r\n220-to the test server\r\n220 ready\r\n');
          onLines(s, (line) => line === 'QUIT' && s.end('221 bye\r\n'));
        }),
        smtp: await tcpServer((s) => {
          s.write('220 mx.test ESMTP\r\n');
          onLines(s, (line) => {
            if (line.startsWith('EHLO')) s.write('250-mx.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
            else if (line === 'STARTTLS') {
              s.write('220 go ahead\r\n');
              upgradeServerSide(s, tls, (secure, l) => l === 'QUIT' && secure.end('221 bye\r\n'));
            }
          });
        }),
        smtpNoTls: await tcpServer((s) => {
          s.write('220 mx.test ESMTP\r\n');
          onLines(s, (line) => line.startsWith('EHLO') && s.write('250-mx.test\r\n250 8BITMIME\r\n'));
        }),
        pop3: await tcpServer((s) => {
          s.write('+OK POP3 ready\r\n');
          onLines(s, (line) => {
            if (line === 'STLS') {
              s.write('+OK begin TLS\r\n');
              upgradeServerSide(s, shortTls, () => undefined);
            }
          });
        }),
        imap: await tcpServer((s) => {
          s.write('* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n');
          onLines(s, (line) => {
            if (line === 'a1 STARTTLS') {
              s.write('a1 OK begin TLS\r\n');
              upgradeServerSide(s, tls, () => undefined);
            }
          });
        }),
        telnet: await tcpServer((s) =>
          s.write(Buffer.concat([Buffer.from([255, 251, 1, 255, 251, 3]), Buffer.from('\r\nrouter login: ')])),
        ),
        silent: await tcpServer(() => undefined),
      };
      cleanups.push(...Object.values(servers).map((s) => () => s.close()));
    });

    it('ssh reads the identification string and rejects something else', async () => {
      const ok = await probe({ kind: 'ssh', port: servers.ssh!.port });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /SSH-2\.0-OpenSSH_9\.2p1/);
      const wrong = await probe({ kind: 'ssh', port: servers.notSsh!.port });
      assert.equal(wrong.status, 'critical');
      assert.match(wrong.message, /unexpected greeting "HTTP\/1\.1 400/);
    });

    it('ftp reads a multi-line 220 greeting', async () => {
      const ok = await probe({ kind: 'ftp', port: servers.ftp!.port });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /220-Welcome \| 220-to the test server \| 220 ready/);
    });

    it('smtp with STARTTLS upgrades and reports the certificate; fails when STARTTLS is not offered', async () => {
      const ok = await probe({ kind: 'smtp', port: servers.smtp!.port, starttls: true, insecure: true });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /STARTTLS ok, certificate localhost expires in 36[45] days/);
      const plain = await probe({ kind: 'smtp', port: servers.smtp!.port });
      assert.equal(plain.status, 'ok');
      const noTls = await probe({ kind: 'smtp', port: servers.smtpNoTls!.port, starttls: true, insecure: true });
      assert.equal(noTls.status, 'critical');
      assert.match(noTls.message, /does not offer STARTTLS/);
    });

    it('pop3 STLS reports an expiring certificate as critical', async () => {
      const result = await probe({ kind: 'pop3', port: servers.pop3!.port, starttls: true, insecure: true });
      assert.equal(result.status, 'critical');
      assert.match(result.message, /\+OK POP3 ready; STARTTLS ok, certificate localhost expires in [23] days/);
    });

    it('imap STARTTLS', async () => {
      const result = await probe({ kind: 'imap', port: servers.imap!.port, starttls: true, insecure: true });
      assert.equal(result.status, 'ok', result.message);
      assert.ok(result.metrics!.some((m) => m.name === 'probe_ssl_earliest_cert_expiry'));
    });

    it('telnet strips option negotiation and matches a prompt without a newline', async () => {
      const result = await probe({ kind: 'telnet', port: servers.telnet!.port, expect: 'login:' });
      assert.equal(result.status, 'ok', result.message);
      assert.match(result.message, /router login:/);
    });

    it('a server that never greets times out as critical within the check timeout', async () => {
      const result = await probe({ kind: 'ssh', port: servers.silent!.port, timeout: '300ms' });
      assert.equal(result.status, 'critical');
      assert.equal(result.failure, 'timeout');
      assert.match(result.message, /timed out after 300 ms/);
    });
  });
});
