import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { splitListen } from './config.ts';
import type { Logger } from './logger.ts';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * prom-client's gauges named like counters (`promtool check metrics` refuses a gauge ending in _total); each is the
 * sum over the `type` label of the gauge without the suffix, which stays (sum(nodejs_active_handles) is the same).
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** One registry per process, with Node's process metrics and a `process` label on everything. */
export function createRegistry(processName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  return registry;
}

/** Returns the metric of that name when already registered, so helpers can be called twice safely. */
export function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Every combination of the given label values, e.g. for {@link initCounter}. */
export function labelProduct<L extends string>(values: Record<L, readonly string[]>): Record<L, string>[] {
  let sets: Record<string, string>[] = [{}];
  for (const [label, options] of Object.entries(values) as [string, readonly string[]][]) {
    sets = sets.flatMap((set) => options.map((value) => ({ ...set, [label]: value })));
  }
  return sets as Record<L, string>[];
}

/**
 * Gives each known label set a 0 sample, so a fresh process exports 0 rather than no series at all (a Grafana panel
 * would say "No data", and rate() would miss the first event). Returns the counter for chaining.
 */
export function initCounter<L extends string>(
  counter: Counter<L>,
  labelSets: Partial<Record<L, string>>[],
): Counter<L> {
  for (const labels of labelSets) counter.inc(labels, 0);
  return counter;
}

/** offhook_invalid_messages_total{process,subject,reason}; `subject` is the subject family, never a raw subject. */
export function invalidMessagesCounter(registry: Registry): Counter<'subject' | 'reason'> {
  return counter(
    registry,
    'offhook_invalid_messages_total',
    'Messages rejected by validation, by subject family and reason',
    ['subject', 'reason'],
  );
}

/** Binds `server` to "host:port" (port 0 = any free one) and returns its base URL with the port actually bound. */
export async function listenOn(server: Server, listen: string): Promise<string> {
  const { host, port } = splitListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export interface HttpEndpoint {
  server: Server;
  /** Base URL with the port actually bound (useful with port 0). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves /metrics, /healthz and any extra routes (status pages, APIs) on one listener.
 * Route keys are exact paths or prefixes ending in "/".
 */
export async function serveHttp(
  listen: string,
  registry: Registry,
  options: { logger?: Logger; routes?: Record<string, RouteHandler> } = {},
): Promise<HttpEndpoint> {
  const routes = options.routes ?? {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const respond = async (): Promise<void> => {
      if (url.pathname === '/metrics') {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(await registry.metrics());
        return;
      }
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('ok\n');
        return;
      }
      const handler =
        routes[url.pathname] ??
        Object.entries(routes).find(([path]) => path.endsWith('/') && url.pathname.startsWith(path))?.[1];
      if (handler) return handler(req, res, url);
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    };
    respond().catch((err: Error) => {
      options.logger?.error({ err, path: url.pathname }, 'http handler failed');
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  return {
    server,
    url: await listenOn(server, listen),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
