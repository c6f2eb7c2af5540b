import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Alert, createRegistry, fingerprint, newId, silentLogger, type Registry } from '../../../shared/index.ts';
import { pluginFor } from '../../../collector/notify/registry.ts';
import { NotificationsConfig, type ReceiverConfig } from '../../../collector/notify/config.ts';
import type { NotificationBatch, NotificationReason } from '../../../collector/notify/types.ts';

/** Everything a receiver might mis-handle: quotes, CR/LF header injection, shell, IRC control codes, SQL. */
export const HOSTILE_SUMMARY =
  `disk "full" it's 'bad'\r\nX-Injected: ` +
  `yes\nPRIVMSG #other :pwned $(touch /tmp/offhook-pwned) \`id\` ; ` +
  `rm -rf / \u0002bold\u0003 4red\u000f \u0001ACTION hi\u0001 '); DROP TABLE ticket; -- }}} [[Image(x)]] é✓`;

export function makeAlert(overrides: Partial<Alert> = {}): Alert {
  const host = overrides.host ?? 'web1';
  const rule = overrides.rule ?? 'disk_full';
  const labels = overrides.labels ?? { mount: '/var' };
  return Alert.parse({
    v: 1,
    id: newId(),
    host,
    ts: 1_700_000_000_000,
    fingerprint: fingerprint(host, rule, labels),
    status: 'firing',
    severity: 'critical',
    rule,
    ruleKind: 'threshold',
    labels,
    summary: 'disk /var is 97% full',
    value: 97,
    startsAt: 1_700_000_000_000,
    endsAt: 0,
    generation: 1,
    ...overrides,
  });
}

export function resolvedCopy(alert: Alert): Alert {
  return { ...alert, status: 'resolved', endsAt: alert.startsAt + 60_000 };
}

export function batchOf(alerts: Alert[], reason: NotificationReason = 'firing', receiver = 'test'): NotificationBatch {
  return {
    receiver,
    reason,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    externalUrl: 'http://status.example:9470',
  };
}

/** One receiver's parsed config (defaults applied) via the real NotificationsConfig schema. */
export function receiver(kind: string, options: Record<string, unknown>): ReceiverConfig {
  return NotificationsConfig.parse({ receivers: [{ name: 'test', kind, ...options }] }).receivers[0] as ReceiverConfig;
}

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
  /** The client's port: the same on two requests when the connection was kept alive. */
  remotePort: number;
}

/**
 * A real HTTP receiver on an ephemeral loopback port. `respond` decides each answer (status or
 * 'hang' to never answer); waitFor resolves when n requests have arrived.
 */
export class HttpSink {
  readonly requests: RecordedRequest[] = [];
  respond: (req: RecordedRequest, index: number) => number | 'hang' = () => 200;
  private waiters: { count: number; resolve: () => void }[] = [];
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<HttpSink> {
    let sink: HttpSink | undefined;
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () =>
        sink!.record(
          {
            method: req.method ?? '',
            url: new URL(req.url ?? '/', 'http://sink'),
            headers: req.headers,
            body,
            remotePort: req.socket.remotePort ?? 0,
          },
          res,
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sink = new HttpSink(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    return sink;
  }

  private record(request: RecordedRequest, res: import('node:http').ServerResponse): void {
    const index = this.requests.push(request) - 1;
    const answer = this.respond(request, index);
    if (answer !== 'hang') {
      // A 3xx points elsewhere on this sink: a client that follows redirects shows up as one more request.
      res.writeHead(answer, {
        'Content-Type': 'text/plain',
        ...(answer >= 300 && answer < 400 ? { Location: '/moved' } : {}),
      });
      res.end(answer < 300 ? 'ok' : 'nope');
    }
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));
  }

  waitFor(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The value of one sample in the registry's text output, or 0 when absent. */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = (metric?.values as { labels: Record<string, string | number>; value: number }[] | undefined)?.find(
    (v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
  );
  return sample?.value ?? 0;
}

/** A configured notifier of one kind, built the way the dispatcher builds it. */
export function createNotifier(
  kind: string,
  options: Record<string, unknown>,
  registry?: Registry,
): import('../../../collector/notify/types.ts').Notifier {
  const plugin = pluginFor(kind);
  if (!plugin) throw new Error(`no plugin ${kind}`);
  return plugin.create(receiver(kind, options), {
    logger: silentLogger(),
    registry: registry ?? createRegistry('test'),
    receiverName: 'test',
  });
}

export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}
