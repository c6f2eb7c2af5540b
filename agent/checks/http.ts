import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import * as z from 'zod';
import { compileSafeRegex, RegexSource, type CheckStatus, type MetricPoint } from '../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from './types.ts';
import { elapsedMs } from './probes/net.ts';
import { judgeCertificate, TlsPolicy, worst } from './probes/tls-policy.ts';
import { ConnectionWatch } from './probes/connection-watch.ts';

const MAX_BODY_BYTES = 1024 * 1024;

const StatusCodes = z
  .array(z.number().int().min(100).max(599))
  .min(1)
  .describe('accepted status codes; default any 2xx');

const HttpConfig = CheckBase.extend({
  kind: z.enum(['http', 'https']),
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  expect_status: StatusCodes.optional(),
  /** Regex the (first 1 MiB of the) body must match. */
  body_regex: RegexSource.optional(),
  /** follow: redirects are followed up to max_redirects; none: a 3xx is the answer (accept it with expect_status). */
  redirects: z.enum(['follow', 'none']).default('none'),
  max_redirects: z.number().int().min(0).max(20).default(5),
  /** Hold the connection between runs, run at once when the server closes it; default the agent's connection_watch. */
  connection_watch: z.boolean().optional(),
  ...TlsPolicy,
}).strict();
type HttpConfig = z.infer<typeof HttpConfig>;

interface Answer {
  response: IncomingMessage;
  body: string;
  firstByteMs: number;
  url: URL;
  cert?: ReturnType<typeof judgeCertificate>;
}

type RunAgents = { http: Agent | false; https: Agent | false };

function fetchOnce(
  config: HttpConfig,
  url: URL,
  signal: AbortSignal,
  start: bigint,
  agents: RunAgents,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const request = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method: config.method,
        headers: { 'user-agent': 'offhook-agent', ...config.headers },
        signal,
        agent: isHttps ? agents.https : agents.http,
        ...(isHttps ? { rejectUnauthorized: !config.insecure } : {}),
      },
      (response) => {
        const firstByteMs = elapsedMs(start);
        const cert = isHttps ? judgeCertificate(response.socket as TLSSocket, config) : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            response,
            body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8'),
            firstByteMs,
            url,
            ...(cert ? { cert } : {}),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end();
  });
}

export default definePlugin({
  kind: 'http',
  aliases: ['https'],
  description: 'HTTP(S) request: status, optional body regex, redirect policy, TLS certificate days to expiry',
  configSchema: HttpConfig,
  create(config) {
    const bodyRegex = config.body_regex ? compileSafeRegex(config.body_regex, '', 'body_regex') : null;
    const watch = new ConnectionWatch();
    return {
      target: config.url,
      connectionWatch: { enabled: config.connection_watch, start: (wake) => watch.start(wake) },
      close: () => watch.stop(),
      async run({ signal }): Promise<CheckOutcome> {
        const start = process.hrtime.bigint();
        const agents = watch.agentForRun();
        let url = new URL(config.url);
        let answer = await fetchOnce(config, url, signal, start, agents);
        for (
          let hops = 0;
          config.redirects === 'follow' && isRedirect(answer.response.statusCode) && answer.response.headers.location;
          hops++
        ) {
          if (hops >= config.max_redirects) {
            return {
              status: 'critical',
              message: `more than ${config.max_redirects} redirects`,
              latencyMs: elapsedMs(start),
              target: config.url,
            };
          }
          url = new URL(answer.response.headers.location, url);
          if (url.protocol !== 'http:' && url.protocol !== 'https:') {
            return {
              status: 'critical',
              message: `redirect to unsupported URL ${url.href}`,
              latencyMs: elapsedMs(start),
              target: config.url,
            };
          }
          answer = await fetchOnce(config, url, signal, start, agents);
        }
        const code = answer.response.statusCode ?? 0;
        const metrics: MetricPoint[] = [
          { name: 'probe_http_status_code', type: 'gauge', value: code },
          { name: 'probe_http_content_length', type: 'gauge', value: Buffer.byteLength(answer.body) },
          { name: 'probe_http_redirects', type: 'gauge', value: url.href === config.url ? 0 : 1 },
          { name: 'probe_duration_seconds', type: 'gauge', value: elapsedMs(start) / 1000 },
        ];
        const problems: string[] = [];
        let status: CheckStatus = 'ok';
        const accepted = config.expect_status ? config.expect_status.includes(code) : code >= 200 && code < 300;
        if (!accepted) {
          status = 'critical';
          problems.push(`status ${code}, expected ${config.expect_status ? config.expect_status.join('/') : '2xx'}`);
        }
        if (bodyRegex && config.method !== 'HEAD' && !bodyRegex.test(answer.body)) {
          status = 'critical';
          problems.push(`body does not match /${config.body_regex}/`);
        }
        let certNote = '';
        if (answer.cert) {
          status = worst(status, answer.cert.status);
          metrics.push(...answer.cert.metrics);
          certNote = `; ${answer.cert.note}`;
          if (answer.cert.status !== 'ok') problems.push(answer.cert.note);
        }
        const message =
          problems.length > 0 ? problems.join('; ') : `HTTP ${code} in ${answer.firstByteMs} ms${certNote}`;
        return { status, message, latencyMs: answer.firstByteMs, target: config.url, metrics };
      },
    };
  },
});

function isRedirect(code: number | undefined): boolean {
  return code !== undefined && [301, 302, 303, 307, 308].includes(code);
}
