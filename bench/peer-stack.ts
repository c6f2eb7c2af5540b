import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { killAndWait, spawnTracked } from '../deploy/lib/processes.ts';
import { freeTcpPort } from '../shared/index.ts';

/**
 * The peer the e2e bench compares with, on loopback, every process killed by its own PID: node_exporter and
 * blackbox_exporter scraped by Prometheus every 1 s, rules evaluated every 1 s with `for: 0s`, Alertmanager with
 * group_wait 0s and group_interval 100ms (a re-fire in the same group waits for the group's next interval; its
 * default is 5m) sending to the same webhook receiver. Debian packages (installed with apt-get when missing).
 */
export interface PeerStack {
  stop(): Promise<void>;
}

const PACKAGES: Record<string, string> = {
  'prometheus-node-exporter': 'prometheus-node-exporter',
  'prometheus-blackbox-exporter': 'prometheus-blackbox-exporter',
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
};

function ensureInstalled(): void {
  const missing = Object.keys(PACKAGES).filter((bin) => spawnSync('which', [bin]).status !== 0);
  if (missing.length === 0) return;
  process.stdout.write(`installing ${missing.join(', ')} from apt...\n`);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing.map((b) => PACKAGES[b]!)], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

/** Resolves once `url` answers 200 (the processes print their readiness in different ways; a probe is uniform). */
async function ready(url: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not come up at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface PeerOptions {
  dir: string;
  /** Mount point the disk rule watches. */
  disk: string;
  /** URL blackbox_exporter probes. */
  target: string;
  webhookUrl: string;
}

export async function startPeerStack(options: PeerOptions): Promise<PeerStack> {
  ensureInstalled();
  const dir = join(options.dir, 'peer');
  mkdirSync(dir, { recursive: true });
  const [nodePort, blackboxPort, promPort, amPort] = await Promise.all([
    freeTcpPort(),
    freeTcpPort(),
    freeTcpPort(),
    freeTcpPort(),
  ]);
  const at = (port: number): string => `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'blackbox.yml'), stringify({ modules: { http_2xx: { prober: 'http', timeout: '2s' } } }));
  const mount = `mountpoint="${options.disk}"`;
  writeFileSync(
    join(dir, 'rules.yml'),
    stringify({
      groups: [
        {
          name: 'peer',
          rules: [
            {
              alert: 'peer_disk_full',
              expr: `1 - node_filesystem_avail_bytes{${mount}} / node_filesystem_size_bytes{${mount}} > 0.5`,
            },
            { alert: 'peer_svc_down', expr: 'probe_success{job="blackbox"} == 0' },
          ],
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'prometheus.yml'),
    stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
      rule_files: [join(dir, 'rules.yml')],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [at(amPort)] }] }] },
      scrape_configs: [
        { job_name: 'node', static_configs: [{ targets: [at(nodePort)] }] },
        {
          job_name: 'blackbox',
          metrics_path: '/probe',
          params: { module: ['http_2xx'] },
          static_configs: [{ targets: [options.target] }],
          relabel_configs: [
            { source_labels: ['__address__'], target_label: '__param_target' },
            { target_label: '__address__', replacement: at(blackboxPort) },
          ],
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    stringify({
      route: {
        receiver: 'hook',
        group_by: ['alertname'],
        group_wait: '0s',
        group_interval: '100ms',
        repeat_interval: '1h',
      },
      receivers: [{ name: 'hook', webhook_configs: [{ url: options.webhookUrl, send_resolved: true }] }],
    }),
  );
  const quiet = { stdio: 'ignore' as const };
  const children = [
    spawnTracked('prometheus-node-exporter', [`--web.listen-address=${at(nodePort)}`], quiet),
    spawnTracked(
      'prometheus-blackbox-exporter',
      [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=${at(blackboxPort)}`],
      quiet,
    ),
    spawnTracked(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am')}`,
        `--web.listen-address=${at(amPort)}`,
        '--cluster.listen-address=',
      ],
      quiet,
    ),
    spawnTracked(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=${at(promPort)}`,
      ],
      quiet,
    ),
  ];
  await ready(`http://${at(nodePort)}/metrics`, 'node_exporter');
  await ready(`http://${at(blackboxPort)}/metrics`, 'blackbox_exporter');
  await ready(`http://${at(amPort)}/-/ready`, 'alertmanager');
  await ready(`http://${at(promPort)}/-/ready`, 'prometheus');
  return {
    stop: async () => {
      for (const child of children.reverse()) await killAndWait(child, 'SIGTERM');
    },
  };
}
