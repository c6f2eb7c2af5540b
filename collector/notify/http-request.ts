import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Enough of the answer to judge it (http-common.ts httpOutcome): the status and the start of the body. */
export interface HttpAnswer {
  status: number;
  body: string;
}

const MAX_BODY_CHARS = 200;

/**
 * Why node:http and not fetch: on loopback a fetch POST took 2.0-2.7 ms (p50) where http.request over a kept-alive
 * connection took 0.1-0.2 ms (same process, same server, Node 20), and the webhook is the last hop of an alert.
 * Connections are kept alive per receiver URL's host, as fetch did. Redirects are not followed (Alertmanager's
 * webhook receivers are POSTed to directly; a 3xx answer is reported as a non-retryable failure).
 */
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

/**
 * Resolves after the requests sendHttp() started in this turn are on the wire: node:http writes a request on a
 * kept-alive socket in a process tick, after the microtasks, so a NATS write started in the same turn left first
 * (ALERTS was ~0.7 ms, the pending entry ~0.3 ms ahead of the POST at its receiver; bench e2e-log, issue #17).
 */
export function afterRequestsWritten(): Promise<void> {
  return new Promise<void>((resolve) => process.nextTick(resolve));
}

export function sendHttp(
  url: string | URL,
  options: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; signal?: AbortSignal | undefined },
): Promise<HttpAnswer> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const https = target.protocol === 'https:';
  const headers = { ...options.headers };
  if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(
      target,
      {
        method: options.method,
        headers,
        agent: https ? agents.https : agents.http,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res: IncomingMessage) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // Only the start is reported; the rest is read (and dropped) so the connection can be reused.
          if (body.length < MAX_BODY_CHARS) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.slice(0, MAX_BODY_CHARS) }));
        res.on('error', reject);
        // Aborted (timeout) or cut mid-answer: a no-op once 'end' has resolved.
        res.on('close', () => {
          if (!res.complete) reject(new Error('the connection closed before the answer was complete'));
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
