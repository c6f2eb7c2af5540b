import { join } from 'node:path';
import type { EmbeddedNatsServer } from '../deploy/lib/embedded-nats.ts';
import { startOffhook, type OffhookProcess } from '../deploy/lib/offhook-process.ts';
import { killAndWait } from '../deploy/lib/processes.ts';
import type { BenchRow } from './lib.ts';
import { average, cpuSeconds, MIB, rssBytes } from './proc-stats.ts';

const FOOTPRINT_S = Number(process.env.OFFHOOK_BENCH_SECONDS ?? 60);

/** Agent CPU and RSS at 1 s and 10 s sampling, both agents side by side in one window. */
export async function agentFootprint(dir: string, server: EmbeddedNatsServer, prefix: string): Promise<BenchRow[]> {
  const agents: Record<string, OffhookProcess> = {};
  for (const interval of ['1s', '10s']) {
    agents[interval] = await startOffhook('agent', dir, `footprint-${interval}`, {
      host: `footprint-${interval}`,
      nats: { servers: [server.url], prefix },
      state_dir: join(dir, `footprint-${interval}`),
      metrics_listen: '127.0.0.1:0',
      heartbeat_interval: '10s',
      resources: { interval },
    });
  }
  // Past start-up (module loading, first inventory) before the window opens.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const start = Object.fromEntries(Object.entries(agents).map(([k, a]) => [k, cpuSeconds(a.child.pid!)]));
  const rss: Record<string, number[]> = { '1s': [], '10s': [] };
  for (let s = 0; s < FOOTPRINT_S; s++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const [k, a] of Object.entries(agents)) rss[k]!.push(rssBytes(a.child.pid!));
  }
  const rows: BenchRow[] = [];
  for (const [k, a] of Object.entries(agents)) {
    const perMinute = ((cpuSeconds(a.child.pid!) - start[k]!) / FOOTPRINT_S) * 60;
    rows.push(
      { name: `agent CPU seconds per minute, ${k} sampling`, value: perMinute, unit: 'CPU s/min' },
      { name: `agent RSS average, ${k} sampling`, value: average(rss[k]!) / MIB, unit: 'MiB' },
      {
        name: `agent RSS max, ${k} sampling`,
        value: Math.max(...rss[k]!) / MIB,
        unit: 'MiB',
        note:
          k === '10s'
            ? `both agents ran side by side for the same ${FOOTPRINT_S} s window, ` +
              `resources (with filesystems and processes) + heartbeat, no checks or logs`
            : undefined,
      },
    );
    await killAndWait(a.child, 'SIGTERM');
  }
  return rows;
}
