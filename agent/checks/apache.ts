import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as z from 'zod';
import type { CheckStatus, MetricPoint } from '../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from './types.ts';
import { elapsedMs } from './probes/net.ts';

/** Parses mod_status `?auto` output ("Key: value" lines). */
export function parseServerStatus(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return fields;
}

function get(url: URL, signal: AbortSignal, insecure: boolean): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : request)(
      url,
      {
        signal,
        agent: false,
        headers: { 'user-agent': 'offhook-agent' },
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !insecure } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 256 * 1024) chunks.push(c);
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export default definePlugin({
  kind: 'apache',
  description: 'Apache mod_status (server-status?auto): busy/idle workers, warns when busy workers near the limit',
  configSchema: CheckBase.extend({
    kind: z.literal('apache'),
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .default('http://127.0.0.1/server-status?auto'),
    /** Fraction of all workers (busy + idle) busy at which the check warns / goes critical. */
    warn_busy_ratio: z.number().min(0).max(1).default(0.8),
    crit_busy_ratio: z.number().min(0).max(1).default(0.95),
    insecure: z.boolean().default(false),
  }).strict(),
  create(config) {
    const url = new URL(config.url);
    if (!url.search.includes('auto')) url.search = url.search ? `${url.search}&auto` : '?auto';
    return {
      target: url.href,
      async run({ signal }): Promise<CheckOutcome> {
        const start = process.hrtime.bigint();
        const { code, body } = await get(url, signal, config.insecure);
        const latencyMs = elapsedMs(start);
        if (code !== 200)
          return { status: 'critical', message: `server-status answered HTTP ${code}`, latencyMs, target: url.href };
        const fields = parseServerStatus(body);
        const busy = Number(fields.BusyWorkers);
        const idle = Number(fields.IdleWorkers);
        if (!Number.isFinite(busy) || !Number.isFinite(idle) || fields.BusyWorkers === undefined) {
          return {
            status: 'unknown',
            message: 'no BusyWorkers/IdleWorkers in server-status (is mod_status enabled with ?auto?)',
            latencyMs,
            target: url.href,
          };
        }
        // apache_exporter's metric names, so existing dashboards work.
        const metrics: MetricPoint[] = [
          { name: 'apache_workers', type: 'gauge', value: busy, labels: { state: 'busy' } },
          { name: 'apache_workers', type: 'gauge', value: idle, labels: { state: 'idle' } },
        ];
        if (fields['Total Accesses'] !== undefined)
          metrics.push({
            name: 'apache_accesses_total',
            type: 'counter',
            value: Number(fields['Total Accesses']) || 0,
          });
        if (fields.ReqPerSec !== undefined)
          metrics.push({ name: 'apache_requests_per_second', type: 'gauge', value: Number(fields.ReqPerSec) || 0 });
        const ratio = busy + idle > 0 ? busy / (busy + idle) : 0;
        const status: CheckStatus =
          ratio >= config.crit_busy_ratio ? 'critical' : ratio >= config.warn_busy_ratio ? 'warning' : 'ok';
        return {
          status,
          message: `${busy} busy, ${idle} idle workers (${Math.round(ratio * 100)}% busy)`,
          latencyMs,
          target: url.href,
          metrics,
        };
      },
    };
  },
});
