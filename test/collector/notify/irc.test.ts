import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAndWait, spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';
import { batchOf, createNotifier, HOSTILE_SUMMARY, makeAlert, neverAborted } from './helpers.ts';
import { freeTcpPort } from '../../../shared/index.ts';
import { selfSignedCertificate } from '../../helpers/certificate.ts';

/**
 * A real ngircd in a temp dir, plain on `port` and TLS (a self-signed certificate) on `tlsPort` (ngircd cannot pick
 * its own ports, so freed ephemeral ones are retried on a clash).
 */
async function startNgircd(): Promise<{ port: number; tlsPort: number; child: ChildProcess; dir: string }> {
  for (let attempt = 0; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-ngircd-'));
    const [port, tlsPort] = [await freeTcpPort(), await freeTcpPort()];
    selfSignedCertificate(dir, { name: 'irc', days: 2, commonName: 'irc.offhook.test' });
    const conf = join(dir, 'ngircd.conf');
    writeFileSync(
      conf,
      `[Global]\nName = irc.offhook.test\nInfo = offhook test\nListen = 127.0.0.1\nPorts = ${port}\n` +
        `MotdPhrase = test\n[Options]\nPAM = no\nIdent = no\nDNS = no\n` +
        `[SSL]\nCertFile = ${join(dir, 'irc-cert.pem')}\nKeyFile = ${join(dir, 'irc-key.pem')}\n` +
        `Ports = ${tlsPort}\n` +
        `[Channel]\nName = #locked\nModes = tnk\nKey = sesame\n`,
    );
    const child = spawnTracked('/usr/sbin/ngircd', ['-n', '-f', conf]);
    try {
      await waitForOutput(child, /Server .* ready/, 10_000);
      return { port, tlsPort, child, dir };
    } catch (err) {
      await killAndWait(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= 3) throw err;
    }
  }
}

/** A plain IRC client sitting in channels and recording every line it sees. */
class Watcher {
  readonly lines: string[] = [];
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private constructor(private readonly socket: Socket) {}

  static async join(port: number, channels: string[]): Promise<Watcher> {
    const socket = connect({ host: '127.0.0.1', port });
    const watcher = new Watcher(socket);
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line.startsWith('PING')) socket.write(`PONG ${line.slice(5)}\r\n`);
        watcher.lines.push(line);
        watcher.waiters = watcher.waiters.filter((w) => (w.test(line) ? (w.resolve(line), false) : true));
      }
    });
    socket.write('NICK watcher\r\nUSER watcher 0 * :test watcher\r\n');
    await watcher.waitFor((l) => / 001 /.test(l));
    for (const channel of channels) {
      socket.write(`JOIN ${channel}\r\n`);
      await watcher.waitFor((l) => l.includes(` 366 watcher ${channel} `));
    }
    return watcher;
  }

  waitFor(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('notifiers: irc against a real IRC server (ngircd)', () => {
  let server: { port: number; tlsPort: number; child: ChildProcess; dir: string };
  before(async () => {
    server = await startNgircd();
  });
  after(async () => {
    await killAndWait(server.child, 'SIGTERM');
    rmSync(server.dir, { recursive: true, force: true });
  });

  it('joins the channel, says the alert as a NOTICE and quits', async () => {
    const watcher = await Watcher.join(server.port, ['#ops']);
    try {
      const alert = makeAlert();
      const outcome = await createNotifier('irc', {
        host: '127.0.0.1',
        port: server.port,
        channel: '#ops',
        nick: 'offhook',
      }).notify(batchOf([alert]), neverAborted());
      assert.deepEqual(outcome, { ok: true });
      const said = await watcher.waitFor((l) => / NOTICE #ops :/.test(l));
      assert.equal(
        said.slice(said.indexOf(' :') + 2),
        `[FIRING:1] critical web1: disk /var is 97% full http://status.example:9470/alerts/${alert.fingerprint}`,
      );
      await watcher.waitFor((l) => /^:offhook!\S+ QUIT/.test(l));
    } finally {
      watcher.close();
    }
  });

  it('over TLS (node:tls required at the first TLS connect): says it; an unverified certificate fails', async () => {
    const watcher = await Watcher.join(server.port, ['#ops']);
    try {
      const irc = { host: '127.0.0.1', port: server.tlsPort, channel: '#ops', nick: 'secure', tls: true };
      const outcome = await createNotifier('irc', { ...irc, tls_verify: false }).notify(
        batchOf([makeAlert()]),
        neverAborted(),
      );
      assert.deepEqual(outcome, { ok: true });
      const said = await watcher.waitFor((l) => /^:secure!\S+ NOTICE #ops :/.test(l));
      assert.match(said, /\[FIRING:1\] critical web1/);
      const refused = await createNotifier('irc', irc).notify(batchOf([makeAlert()]), neverAborted());
      assert.equal(refused.ok, false, 'the self-signed certificate is not trusted by default');
    } finally {
      watcher.close();
    }
  });

  it('a templates.text says one line per non-empty template line', async () => {
    const watcher = await Watcher.join(server.port, ['#ops']);
    try {
      const outcome = await createNotifier('irc', {
        host: '127.0.0.1',
        port: server.port,
        channel: '#ops',
        nick: 'offhook',
        templates: {
          text: '{{ Status }}: {{ CommonLabels.alertname }}\n\n{% for a in Alerts %}{{ a.Labels.host }}{% endfor %}',
        },
      }).notify(batchOf([makeAlert()]), neverAborted());
      assert.deepEqual(outcome, { ok: true });
      const first = await watcher.waitFor((l) => / NOTICE #ops :firing/.test(l));
      assert.equal(first.slice(first.indexOf(' :') + 2), 'firing: disk_full');
      const second = await watcher.waitFor((l) => / NOTICE #ops :web1$/.test(l));
      assert.ok(second);
      await watcher.waitFor((l) => /^:offhook!\S+ QUIT/.test(l));
    } finally {
      watcher.close();
    }
  });

  it('a hostile summary arrives as one clean line and reaches no other channel', async () => {
    const watcher = await Watcher.join(server.port, ['#ops', '#other']);
    try {
      const alerts = [
        makeAlert({ summary: HOSTILE_SUMMARY }),
        makeAlert({ rule: 'second', summary: 'second\r\nQUIT :x' }),
      ];
      const outcome = await createNotifier('irc', {
        host: '127.0.0.1',
        port: server.port,
        channel: '#ops',
        notice: false,
      }).notify(batchOf(alerts), neverAborted());
      assert.deepEqual(outcome, { ok: true });
      // The server handles the bot's lines in order, so once its QUIT shows, everything it said has shown.
      await watcher.waitFor((l) => /^:offhook!\S+ QUIT/.test(l));
      const fromBot = watcher.lines.filter((l) => l.startsWith(':offhook!'));
      const messages = fromBot.filter((l) => / PRIVMSG /.test(l));
      assert.equal(messages.length, 3, fromBot.join('\n'));
      assert.ok(messages.every((l) => l.includes(' PRIVMSG #ops :')));
      assert.equal(
        watcher.lines.some((l) => /^\S+ (PRIVMSG|NOTICE) #other /.test(l)),
        false,
      );
      assert.equal(
        watcher.lines.some((l) => l.includes('pwned') && !l.includes(' PRIVMSG #ops :')),
        false,
      );
      for (const line of messages) assert.doesNotMatch(line, /[\u0000-\u001f]/);
      assert.ok(
        messages[1]!.includes(
          `disk "full" it's 'bad' X-Injected: yes PRIVMSG #other :pwned $(touch /tmp/offhook-pwned) \`id\` ; ` +
            `rm -rf / bold 4red ACTION hi '); DROP TABLE ticket;`,
        ),
        messages[1],
      );
      assert.match(messages[2]!, /second QUIT :x/);
    } finally {
      watcher.close();
    }
  });

  it('joins a keyed channel with its key; a wrong key is a permanent failure', async () => {
    const ok = await createNotifier('irc', {
      host: '127.0.0.1',
      port: server.port,
      channel: '#locked',
      channel_key: 'sesame',
      nick: 'keyed',
    }).notify(batchOf([makeAlert()]), neverAborted());
    assert.deepEqual(ok, { ok: true });
    const refused = await createNotifier('irc', {
      host: '127.0.0.1',
      port: server.port,
      channel: '#locked',
      channel_key: 'wrong',
      nick: 'keyed',
    }).notify(batchOf([makeAlert()]), neverAborted());
    assert.equal(refused.ok, false);
    assert.equal((refused as { retry: boolean }).retry, false);
    assert.match((refused as { error: string }).error, /wrong channel key/);
  });

  it('takes another nick when its nick is in use, and a dead server is retryable', async () => {
    const squatter = await Watcher.join(server.port, []);
    try {
      const outcome = await createNotifier('irc', {
        host: '127.0.0.1',
        port: server.port,
        channel: '#ops',
        nick: 'watcher',
      }).notify(batchOf([makeAlert()]), neverAborted());
      assert.deepEqual(outcome, { ok: true });
    } finally {
      squatter.close();
    }
    const deadPort = await freeTcpPort();
    const dead = await createNotifier('irc', { host: '127.0.0.1', port: deadPort, channel: '#ops' }).notify(
      batchOf([makeAlert()]),
      neverAborted(),
    );
    assert.deepEqual({ ok: dead.ok, retry: (dead as { retry: boolean }).retry }, { ok: false, retry: true });
  });
});
