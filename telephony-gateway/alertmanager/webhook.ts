import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AlertmanagerPayload, listenOn, type Logger } from '../../shared/index.ts';
import { challenge, isAuthorized, type ResolvedAuth } from './auth.ts';
import type { BridgeMetrics } from './metrics.ts';
import { parsePayload, type PayloadProblem } from './payload.ts';

/**
 * What the bridge does with a valid payload; throws only when the alerts could not be stored (Alertmanager should
 * retry).
 */
export type PayloadHandler = (payload: AlertmanagerPayload) => Promise<{ queued: number; duplicates: number }>;

export type Outcome =
  | 'accepted'
  | 'unauthorized'
  | 'too_large'
  | 'unsupported_media_type'
  | 'invalid_payload'
  | 'method_not_allowed'
  | 'not_found'
  | 'unavailable'
  | 'error';

class TooLarge extends Error {}

/** Thrown by a payload handler when a schema-valid payload still cannot become alerts: a 400, not a retry. */
export class UnusablePayload extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        // Stop buffering at once; the rest of the upload is discarded when the connection closes.
        req.removeAllListeners('data');
        req.resume();
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function isJson(contentType: string | undefined): boolean {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The HTTP side of the bridge: authentication, size and media-type limits, payload validation, and
 * a status code Alertmanager understands (it retries 5xx, never 4xx). Nothing a client sends can
 * throw out of here.
 */
export class WebhookServer {
  private server: Server | null = null;

  constructor(
    private readonly options: { path: string; auth: ResolvedAuth; maxBodyBytes: number },
    private readonly handle: PayloadHandler,
    private readonly metrics: BridgeMetrics,
    private readonly logger: Logger,
    private readonly onRejected: (outcome: string, detail: string) => void = () => undefined,
  ) {}

  async listen(listen: string): Promise<string> {
    const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
      this.serve(req, res).catch((err: Error) => {
        this.logger.error({ err }, 'webhook request failed');
        this.reply(res, 500, 'error', { error: 'internal error' });
      });
    });
    // A malformed request line or a reset socket is the client's problem, never a reason to stop.
    server.on('clientError', (err, socket) => {
      this.logger.debug({ err }, 'bad webhook connection');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    const base = await listenOn(server, listen);
    this.server = server;
    return `${base}${this.options.path}`;
  }

  private reply(
    res: ServerResponse,
    status: number,
    outcome: Outcome,
    body: object,
    headers: Record<string, string> = {},
  ): void {
    this.metrics.requests.inc({ outcome });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers });
    res.end(`${JSON.stringify(body)}\n`);
  }

  private reject(
    res: ServerResponse,
    status: number,
    outcome: Outcome,
    error: string,
    headers: Record<string, string> = {},
    extra: object = {},
  ): void {
    this.onRejected(outcome, error);
    this.reply(res, status, outcome, { error, ...extra }, headers);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', (err) => this.logger.debug({ err }, 'webhook request stream failed'));
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path !== this.options.path)
      return this.reject(res, 404, 'not_found', `not found; Alertmanager posts to ${this.options.path}`);
    if (req.method !== 'POST')
      return this.reject(res, 405, 'method_not_allowed', 'expected POST (the Alertmanager webhook)', { Allow: 'POST' });
    if (!isAuthorized(req.headers.authorization, this.options.auth)) {
      return this.reject(
        res,
        401,
        'unauthorized',
        `missing or wrong credentials: ` +
          `set http_config.${this.options.auth.kind === 'bearer' ? 'authorization.credentials' : 'basic_auth'} on ` +
          `the webhook receiver`,
        {
          'WWW-Authenticate': challenge(this.options.auth),
        },
      );
    }
    if (!isJson(req.headers['content-type'])) {
      return this.reject(
        res,
        415,
        'unsupported_media_type',
        `expected Content-Type application/json, got ${JSON.stringify(req.headers['content-type'] ?? 'nothing')}`,
      );
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge =
      `body larger than ${this.options.maxBodyBytes} bytes: ` +
      `raise alertmanager.max_body_bytes or set max_alerts on the receiver`;
    if (declared > this.options.maxBodyBytes)
      return this.reject(res, 413, 'too_large', tooLarge, { Connection: 'close' });
    let body: Buffer;
    try {
      body = await readBody(req, this.options.maxBodyBytes);
    } catch (err) {
      if (err instanceof TooLarge) return this.reject(res, 413, 'too_large', tooLarge, { Connection: 'close' });
      throw err;
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return this.invalid(res, { reason: 'not_utf8', detail: 'body is not UTF-8 text' });
    }
    const parsed = parsePayload(text);
    if (!parsed.ok) return this.invalid(res, parsed.problem);
    let result: { queued: number; duplicates: number };
    try {
      result = await this.handle(parsed.payload);
    } catch (err) {
      if (err instanceof UnusablePayload) return this.invalid(res, { reason: 'invalid_field', detail: err.message });
      this.logger.error(
        { err, receiver: parsed.payload.receiver, groupKey: parsed.payload.groupKey },
        'cannot hand Alertmanager alerts to the queue; Alertmanager will retry',
      );
      return this.reject(
        res,
        503,
        'unavailable',
        `cannot store the alerts right now (${(err as Error).message}); retry later`,
        { 'Retry-After': '5' },
      );
    }
    this.reply(res, 200, 'accepted', { status: 'ok', ...result });
  }

  private invalid(res: ServerResponse, problem: PayloadProblem): void {
    this.metrics.invalidPayloads.inc({ reason: problem.reason });
    this.logger.warn({ reason: problem.reason, detail: problem.detail }, 'rejected an Alertmanager webhook payload');
    this.reject(res, 400, 'invalid_payload', problem.detail, {}, { reason: problem.reason });
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
