import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { TranscriptEntry } from '../../../native/line.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../../deploy/lib/processes.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { assertOneCallAtATime, startTestGateway, type TestGateway } from '../harness.ts';
import { gatewayConfig } from '../helpers.ts';

/** The Debian package's binary (apt-get install prometheus-alertmanager). */
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const TOKEN = 'real-am-test-token';

interface RunningAlertmanager {
  url: string;
  child: ChildProcess;
  dir: string;
  configFile: string;
}

function alertmanagerConfig(webhookUrl: string): string {
  return stringify({
    route: {
      receiver: 'offhook-phone',
      group_by: ['alertname', 'instance'],
      group_wait: '50ms',
      group_interval: '1s',
      repeat_interval: '4h',
    },
    receivers: [
      {
        name: 'offhook-phone',
        webhook_configs: [
          {
            url: webhookUrl,
            send_resolved: true,
            max_alerts: 100,
            http_config: { authorization: { type: 'Bearer', credentials: TOKEN } },
          },
        ],
      },
    ],
  });
}

/** A real Alertmanager on a free loopback port, gossip off, its own storage directory. */
async function startAlertmanager(previous?: RunningAlertmanager): Promise<RunningAlertmanager> {
  const dir = previous?.dir ?? mkdtempSync(join(tmpdir(), 'offhook-am-'));
  const configFile = join(dir, 'alertmanager.yml');
  // No gateway yet (its webhook port is not known): a receiver nobody listens on, replaced by reload below.
  if (!previous) writeFileSync(configFile, alertmanagerConfig('http://127.0.0.1:9/not-yet'));
  // A restart keeps the port and the storage (silences, notification log), as a real restart does.
  const listen = previous ? previous.url.replace('http://', '') : '127.0.0.1:0';
  const child = spawnTracked(ALERTMANAGER, [
    `--config.file=${configFile}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=${listen}`,
    '--cluster.listen-address=',
    '--log.level=info',
  ]);
  const [, port] = await waitForOutput(child, /msg="Listening on" address=127\.0\.0\.1:(\d+)/, 20_000);
  return { url: `http://127.0.0.1:${port}`, child, dir, configFile };
}

/** The fenced yaml block under a README heading. */
function readmeYaml(heading: string): string {
  const readme = readFileSync(join(import.meta.dirname, '../../../telephony-gateway/alertmanager/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(heading));
  const match = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(match, `a yaml block under ${heading}`);
  return match[1]!;
}

async function amApi<T>(am: RunningAlertmanager, path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${am.url}${path}`, {
    ...init,
    headers: { 'Content-Type': 'application/json', ...init.headers },
  });
  const text = await response.text();
  assert.ok(response.ok, `${init.method ?? 'GET'} ${path}: HTTP ${response.status} ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}

function waitForBridgeEvent(gw: TestGateway, event: string, timeoutMs = 20_000): Promise<unknown[]> {
  const bridge = gw.gateway.alertmanager!;
  return Promise.race([
    once(bridge.events, event),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`timed out waiting for the bridge's ${event} event`)), timeoutMs).unref(),
    ),
  ]);
}

/** One line per transcript entry, for the report and for a failing assertion's message. */
function readable(transcript: TranscriptEntry[]): string {
  return transcript
    .map((e) => {
      const what =
        e.event === 'dial'
          ? `dial ${e.number}`
          : e.event === 'play'
            ? `play ${e.file}${e.interruptedBy ? ` (interrupted by ${e.interruptedBy})` : ''}`
            : e.event === 'press'
              ? `press ${e.digit}`
              : e.event === 'collect'
                ? `collect "${e.digits}" (${e.reason})`
                : e.event;
      return `${String(e.t).padStart(7)} ms  ${what}`;
    })
    .join('\n');
}

describe(`gateway as a real Alertmanager's voice receiver (${ALERTMANAGER})`, function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let am: RunningAlertmanager | null = null;
  let gw: TestGateway | null = null;
  let suite = 0;

  before(async function () {
    if (!existsSync(ALERTMANAGER))
      throw new Error(
        `${ALERTMANAGER} is missing: apt-get install -y --no-install-recommends ` +
          `prometheus-alertmanager (deploy/bootstrap.sh does)`,
      );
  });
  beforeEach(async () => {
    am = await startAlertmanager();
  });
  afterEach(async () => {
    if (gw) assertOneCallAtATime(gw.transcript());
    await gw?.stop();
    gw = null;
    if (am) {
      await killAndWait(am.child);
      rmSync(am.dir, { recursive: true, force: true });
    }
    am = null;
  });

  /** Starts the gateway with the webhook on, then points Alertmanager's receiver at it. */
  async function connect(extra: Record<string, unknown> = {}): Promise<TestGateway> {
    const gateway = await startTestGateway(
      server,
      {
        alertmanager: {
          listen: '127.0.0.1:0',
          auth: { bearer_token: TOKEN },
          alertmanager_url: am!.url,
          silence_max: '2h',
        } as never,
        ...extra,
      },
      `gwreal${++suite}`,
    );
    writeFileSync(am!.configFile, alertmanagerConfig(gateway.gateway.alertmanager!.url));
    // /-/reload answers once the new configuration is applied.
    await amApi(am!, '/-/reload', { method: 'POST' });
    return gateway;
  }

  const diskFull = { alertname: 'DiskFull', instance: 'db1.example.com:9100', severity: 'critical', team: 'storage' };

  it('Alertmanager posts, the sim line calls alice, 1 acknowledges, and Alertmanager shows the silence', async () => {
    gw = await connect();
    gw.line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const silenced = waitForBridgeEvent(gw, 'silenced', 40_000);
    await amApi(am!, '/api/v2/alerts', {
      method: 'POST',
      body: JSON.stringify([{ labels: diskFull, annotations: { summary: 'Disk on db1 is 97 percent full' } }]),
    });

    const [fingerprint, silenceId] = (await silenced) as [string, string];
    await gw.waitFor(
      'the acknowledged call and its record',
      () => gw!.calls.length === 1 && gw!.acks.length === 1 && gw!.finished.some((f) => f.reason === 'acknowledged'),
    );
    if (process.env.OFFHOOK_SHOW_TRANSCRIPT) process.stdout.write(`${readable(gw.transcript())}\n`);

    const [call] = gw.calls;
    assert.deepEqual(
      [call!.person, call!.number, call!.outcome, call!.digits, call!.fingerprints],
      ['alice', '100', 'acknowledged', '1', [fingerprint]],
      readable(gw.transcript()),
    );
    assert.deepEqual(
      [gw.acks[0]!.fingerprint, gw.acks[0]!.method, gw.acks[0]!.host],
      [fingerprint, 'dtmf', 'db1_example_com'],
    );
    const spoken = gw.transcript().flatMap((e) => (e.event === 'play' ? [e.file.replace(/-[0-9a-f]+\.wav$/, '')] : []));
    assert.deepEqual(spoken.slice(0, 2), ['alert', 'menu'], readable(gw.transcript()));

    const silences = await amApi<
      Array<{
        id: string;
        status: { state: string };
        matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
        createdBy: string;
        comment: string;
        startsAt: string;
        endsAt: string;
      }>
    >(am!, '/api/v2/silences');
    const silence = silences.find((s) => s.id === silenceId);
    assert.ok(silence, `silence ${silenceId} in ${JSON.stringify(silences)}`);
    assert.equal(silence.status.state, 'active');
    assert.deepEqual(
      silence.matchers.map((m) => [m.name, m.value, m.isRegex, m.isEqual ?? true]).sort(),
      Object.entries(diskFull)
        .map(([name, value]) => [name, value, false, true])
        .sort(),
    );
    assert.equal(silence.createdBy, 'offhook');
    assert.match(silence.comment, /Acknowledged by alice \(phone\)/);
    const lengthMs = Date.parse(silence.endsAt) - Date.parse(silence.startsAt);
    assert.ok(
      lengthMs > 60 * 60_000 && lengthMs <= 2 * 60 * 60_000,
      `silence_max (2h) bounds the silence, got ${lengthMs} ms`,
    );

    const alerts = await amApi<
      Array<{ labels: Record<string, string>; status: { state: string; silencedBy: string[] } }>
    >(am!, '/api/v2/alerts?filter=alertname%3D%22DiskFull%22');
    assert.deepEqual(
      alerts.map((a) => [a.status.state, a.status.silencedBy]),
      [['suppressed', [silenceId]]],
      'Alertmanager itself now mutes the alert',
    );
    assert.equal(await gw.metric('offhook_gateway_alertmanager_silences_total', { result: 'created' }), 1);
  });

  it('an ack while Alertmanager is down becomes a silence once it is back; a second ack adds none', async () => {
    gw = await connect({ escalation: { group_wait: '1h' } });
    const queued = waitForBridgeEvent(gw, 'queued');
    await amApi(am!, '/api/v2/alerts', { method: 'POST', body: JSON.stringify([{ labels: diskFull }]) });
    await queued;
    await gw.waitFor('the alert in the call queue', () => gw!.gateway.queue.size === 1);
    const alert = gw.gateway.queue.all()[0]!.alert;
    await killAndWait(am!.child);

    const failed = waitForBridgeEvent(gw, 'silence_failed');
    await gw.publishAck(alert, 'cli');
    const [, error] = (await failed) as [string, string];
    assert.match(error, /cannot reach Alertmanager at http:\/\/127\.0\.0\.1:\d+\/api\/v2\/silences: ECONNREFUSED/);
    await gw.waitFor('the ack stopping the escalation', () => gw!.finished.some((f) => f.reason === 'acknowledged'));

    const silenced = waitForBridgeEvent(gw, 'silenced', 30_000);
    am = await startAlertmanager(am!);
    const [, silenceId] = (await silenced) as [string, string];
    const silences = await amApi<Array<{ id: string; status: { state: string }; comment: string }>>(
      am,
      '/api/v2/silences',
    );
    assert.deepEqual(
      silences.map((s) => [s.id, s.status.state]),
      [[silenceId, 'active']],
    );
    assert.match(silences[0]!.comment, /Acknowledged by operator \(cli\)/);
    assert.equal(await gw.metric('offhook_gateway_alertmanager_silences_total', { result: 'failed' }), 1);

    // The same firing acknowledged again (someone else on the CLI): Alertmanager already has the silence.
    await gw.publishAck(alert, 'cli');
    await untilPolled(
      async () => (await gw!.metric('offhook_gateway_alertmanager_silences_total', { result: 'skipped' })) === 1,
      'the second ack to be skipped',
      20_000,
    );
    assert.equal((await amApi<unknown[]>(am, '/api/v2/silences')).length, 1);
  });

  it('the README snippets are valid: amtool accepts the receiver, the gateway accepts its section', () => {
    const receiver = join(am!.dir, 'readme-receiver.yml');
    const tokenFile = join(am!.dir, 'offhook.token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    writeFileSync(
      receiver,
      readmeYaml('## alertmanager.yml receiver').replaceAll('/etc/alertmanager/offhook.token', tokenFile),
    );
    const output = execFileSync('/usr/bin/amtool', ['check-config', receiver], { encoding: 'utf8' });
    assert.match(output, /SUCCESS/);
    const section = parse(readmeYaml('## Turn it on')) as { alertmanager: Record<string, unknown> };
    const config = gatewayConfig({ alertmanager: section.alertmanager as never });
    assert.equal(config.alertmanager?.listen, '127.0.0.1:9467');
    assert.equal(config.alertmanager?.silence_max, 4 * 3_600_000);
  });

  it('a resolve from Alertmanager removes the queued call before anyone is rung', async () => {
    gw = await connect({ escalation: { group_wait: '1h' } });
    const queued = waitForBridgeEvent(gw, 'queued');
    await amApi(am!, '/api/v2/alerts', {
      method: 'POST',
      body: JSON.stringify([{ labels: diskFull, annotations: { summary: 'Disk full' } }]),
    });
    await queued;
    await gw.waitFor('the alert in the call queue', () => gw!.gateway.queue.size === 1);
    const resolveHandled = new Promise<void>((resolve) =>
      gw!.gateway.alertmanager!.events.on(
        'queued',
        (alert: { status: string }) => alert.status === 'resolved' && resolve(),
      ),
    );
    // Alertmanager resolves an alert whose endsAt has passed and sends the resolve (send_resolved: true).
    await amApi(am!, '/api/v2/alerts', {
      method: 'POST',
      body: JSON.stringify([{ labels: diskFull, endsAt: new Date().toISOString() }]),
    });
    await gw.waitFor('the resolve', () => gw!.finished.some((f) => f.reason === 'resolved'), 30_000);
    await resolveHandled;
    assert.equal(gw.gateway.queue.size, 0);
    assert.equal(gw.transcript().filter((e) => e.event === 'off_hook').length, 0);
    assert.equal(
      await gw.metric('offhook_gateway_alertmanager_alerts_total', { status: 'resolved', result: 'queued' }),
      1,
    );
  });
});
