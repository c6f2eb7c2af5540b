import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';

/** Debian's prometheus-alertmanager (0.25), the reference the collector's grouping is compared with. */
export const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';

/** One webhook POST as Alertmanager (or the collector, sent to the same capture server) makes it. */
export interface WebhookPost {
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  status: string;
  alerts: { status: string; labels: Record<string, string> }[];
}

export interface AlertmanagerProcess {
  /** Alertmanager's own API, e.g. http://127.0.0.1:9093. */
  url: string;
  /** The capture server's base URL (no trailing slash): the webhook URLs of `config` point below it. */
  hookBase: string;
  /** POSTs to Alertmanager's v2 API; throws unless it took them. */
  postAlerts(alerts: unknown[]): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real Alertmanager on loopback (no cluster, storage in a temp directory) and a webhook capture server:
 * `config(hookBase)` is its configuration, `onPost(path, payload)` sees every POST the capture server receives.
 */
export async function startAlertmanager(
  config: (hookBase: string) => Record<string, unknown>,
  onPost: (path: string, payload: WebhookPost) => void,
): Promise<AlertmanagerProcess> {
  if (!existsSync(ALERTMANAGER))
    throw new Error(`${ALERTMANAGER} is missing: apt-get install prometheus-alertmanager (deploy/bootstrap.sh does)`);
  const hook: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      onPost(req.url ?? '/', JSON.parse(body) as WebhookPost);
      res.end();
    });
  });
  hook.listen(0, '127.0.0.1');
  await new Promise((resolve) => hook.once('listening', resolve));
  const hookBase = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  const dir = mkdtempSync(join(tmpdir(), 'offhook-alertmanager-'));
  let am: ChildProcess | undefined;
  const stop = async () => {
    if (am) await killAndWait(am);
    hook.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(dir, 'am.yml'), stringify(config(hookBase)));
    am = spawnTracked(ALERTMANAGER, [
      `--config.file=${join(dir, 'am.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--cluster.listen-address=',
    ]);
    const [, port] = await waitForOutput(am, /msg="Listening on" address=127\.0\.0\.1:(\d+)/, 20_000);
    const url = `http://127.0.0.1:${port}`;
    return {
      url,
      hookBase,
      async postAlerts(alerts) {
        const res = await fetch(`${url}/api/v2/alerts`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(alerts),
        });
        if (!res.ok) throw new Error(`Alertmanager refused the alerts: HTTP ${res.status} ${await res.text()}`);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
