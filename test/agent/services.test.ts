import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { probe } from './probe-helpers.ts';
import { CheckConfig, pluginFor } from '../../agent/index.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { ensureMariaDb } from '../helpers/mariadb.ts';

describe('agent checks: dns, mysql, apache, process', () => {
  describe('dns', () => {
    let server: UdpSocket;
    let port: number;
    before(async () => {
      server = createSocket('udp4');
      server.on('message', (message, peer) => {
        const query = dnsPacket.decode(message);
        const question = query.questions![0]!;
        const known = question.name === 'www.example.test' && question.type === 'A';
        const answer = dnsPacket.encode({
          type: 'response',
          id: query.id,
          flags: dnsPacket.RECURSION_DESIRED | (known ? 0 : 3),
          questions: query.questions,
          answers: known
            ? [
                { type: 'A', name: question.name, ttl: 60, data: '192.0.2.10' },
                { type: 'A', name: question.name, ttl: 60, data: '192.0.2.11' },
              ]
            : [],
        });
        server.send(answer, peer.port, peer.address);
      });
      await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    after(() => server.close());

    it('gets the answer, matches it, and fails on NXDOMAIN or a wrong answer', async () => {
      const ok = await probe({
        kind: 'dns',
        server: '127.0.0.1',
        port,
        query: 'www.example.test',
        record: 'A',
        expect: '^192\\.0\\.2\\.11$',
      });
      assert.equal(ok.status, 'ok', ok.message);
      assert.match(ok.message, /A www\.example\.test: 192\.0\.2\.10, 192\.0\.2\.11/);
      assert.deepEqual(ok.metrics, [{ name: 'probe_dns_answer_rrs', type: 'gauge', value: 2 }]);
      const wrong = await probe({
        kind: 'dns',
        server: '127.0.0.1',
        port,
        query: 'www.example.test',
        expect: '^10\\.',
      });
      assert.equal(wrong.status, 'critical');
      assert.match(wrong.message, /do not match/);
      const missing = await probe({ kind: 'dns', server: '127.0.0.1', port, query: 'nope.example.test' });
      assert.equal(missing.status, 'critical');
      assert.match(missing.message, /no A answer for nope\.example\.test: ENOTFOUND/);
    });
  });

  describe('mysql (real MariaDB at 127.0.0.1:3306)', () => {
    before(async function () {
      this.timeout(30_000);
      ensureMariaDb();
    });

    it('reads the protocol handshake without credentials', async () => {
      const result = await probe({ kind: 'mysql', port: 3306 });
      assert.equal(result.status, 'ok', result.message);
      assert.match(result.message, /handshake from server .*MariaDB/);
    });

    it('logs in and runs SELECT 1', async () => {
      const result = await probe({ kind: 'mysql', port: 3306, user: 'root', query: 'SELECT 1' });
      assert.equal(result.status, 'ok', result.message);
      assert.match(result.message, /SELECT 1 returned 1/);
      assert.deepEqual(result.metrics, [{ name: 'probe_mysql_query_value', type: 'gauge', value: 1 }]);
    });

    it('is critical for a failing query and for bad credentials', async () => {
      const badQuery = await probe({
        kind: 'mysql',
        port: 3306,
        user: 'root',
        query: 'SELECT * FROM no_such_table_offhook',
      });
      assert.equal(badQuery.status, 'critical');
      assert.match(badQuery.message, /No database selected|doesn't exist/);
      const badLogin = await probe({
        kind: 'mysql',
        port: 3306,
        user: `nobody_${randomBytes(3).toString('hex')}`,
        password: 'wrong',
      });
      assert.equal(badLogin.status, 'critical');
      assert.match(badLogin.message, /Access denied/);
    });
  });

  describe('apache server-status', () => {
    let url: string;
    let busy = 3;
    const server = createServer((req, res) => {
      if (!req.url?.startsWith('/server-status?auto')) return void res.writeHead(404).end();
      res.end(
        `localhost\nServerVersion: Apache/2.4.62 (Debian)\nTotal Accesses: 1234\nReqPerSec: ` +
          `2.5\nBusyWorkers: ${busy}\nIdleWorkers: ${10 - busy}\nScoreboard: ` +
          `${'W'.repeat(busy)}${'_'.repeat(10 - busy)}\n`,
      );
    });
    before(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/server-status?auto`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('reports busy/idle workers and warns as the pool fills', async () => {
      const ok = await probe({ kind: 'apache', url });
      assert.equal(ok.status, 'ok');
      assert.equal(ok.message, '3 busy, 7 idle workers (30% busy)');
      assert.ok(ok.metrics!.some((m) => m.name === 'apache_workers' && m.labels?.state === 'busy' && m.value === 3));
      assert.ok(ok.metrics!.some((m) => m.name === 'apache_accesses_total' && m.value === 1234));
      busy = 9;
      assert.equal((await probe({ kind: 'apache', url })).status, 'warning');
      busy = 10;
      assert.equal((await probe({ kind: 'apache', url })).status, 'critical');
      const notFound = await probe({ kind: 'apache', url: url.replace('server-status', 'nothing') });
      assert.equal(notFound.status, 'critical');
    });
  });

  describe('process CPU', () => {
    it('is critical when the matched processes use more CPU than max_cpu_percent since the last run', async () => {
      const marker = `offhook-cpu-marker-${randomBytes(4).toString('hex')}`;
      const burner = spawnTracked('node', [
        '-e',
        `
        const start = process.cpuUsage(); let said = false;
        for (;;) {
          const u = process.cpuUsage(start);
          if (!said && u.user + u.system > 300000) { console.log('burned'); said = true; }
        }`,
        marker,
      ]);
      try {
        const config = CheckConfig.parse({
          name: 'cpu',
          kind: 'process',
          command: marker,
          max_cpu_percent: 1,
        }) as never;
        const instance = pluginFor('process')!.create(config);
        const controller = new AbortController();
        const first = await instance.run({ signal: controller.signal, timeoutMs: 5000 });
        assert.equal(first.status, 'ok', 'no CPU figure before a second run');
        await waitForOutput(burner, /burned/);
        const second = await instance.run({ signal: controller.signal, timeoutMs: 5000 });
        assert.equal(second.status, 'critical', second.message);
        assert.match(second.message, /CPU [\d.]+% above 1%/);
      } finally {
        await killAndWait(burner, 'SIGKILL');
      }
    });
  });

  describe('process', () => {
    it('counts processes by command-line regex against min/max and max RSS', async () => {
      const marker = `offhook-proc-marker-${randomBytes(4).toString('hex')}`;
      const children = [0, 1].map(() =>
        spawnTracked('node', ['-e', 'console.log("up"); setInterval(() => {}, 1000)', marker]),
      );
      await Promise.all(children.map((c) => waitForOutput(c, /up/)));
      const two = await probe({ kind: 'process', command: marker, min: 2, max: 2 });
      assert.equal(two.status, 'ok', two.message);
      assert.match(two.message, /^2 running/);
      const tooMany = await probe({ kind: 'process', command: marker, min: 1, max: 1 });
      assert.equal(tooMany.status, 'critical');
      assert.match(tooMany.message, /2 running, expected at most 1/);
      const fat = await probe({ kind: 'process', command: marker, max_rss: '1MiB' });
      assert.equal(fat.status, 'critical');
      assert.match(fat.message, /RSS .* above 1\.0 MiB/);
      const byName = await probe({ kind: 'process', name_is: 'node', command: marker, min: 2 });
      assert.equal(byName.status, 'ok');
      await Promise.all(children.map((c) => killAndWait(c)));
      const gone = await probe({ kind: 'process', command: marker });
      assert.equal(gone.status, 'critical');
      assert.match(gone.message, /0 running, expected at least 1/);
    });
  });
});
