import { accessSync, constants, readFileSync } from 'node:fs';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import * as z from 'zod';
import type { Logger } from './logger.ts';
import { counter, Gauge, type Registry } from './metrics.ts';
import { DEFAULT_PREFIX } from './subjects.ts';

export type { NatsConnection } from '@nats-io/transport-node';

/** The `nats:` section every process's config shares. */
export const NatsConfig = z
  .object({
    servers: z.array(z.string().min(1)).min(1).default(['nats://127.0.0.1:4222']),
    /** Subject prefix; every subject starts with `<prefix>.v1.` */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected one NATS token [A-Za-z0-9_-]+' })
      .default(DEFAULT_PREFIX),
    user: z.string().optional(),
    password: z.string().optional(),
    token: z.string().optional(),
    /** File holding an nkey seed (SU...). */
    nkey_seed_file: z.string().optional(),
    /** A .creds file (JWT + seed) for operator-mode servers. */
    credentials_file: z.string().optional(),
    /**
     * Prefix for reply subjects (PubAcks, consumer deliveries). Agents get their own (e.g. `_INBOX_web1`) so the
     * server can let each subscribe only to its replies: with the shared `_INBOX.>` one agent could read another
     * process's replies, including JetStream deliveries of alerts (deploy/nats/README.md).
     */
    inbox_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, { error: 'expected one NATS token [A-Za-z0-9_-]+, e.g. _INBOX_web1' })
      .optional(),
    /**
     * Replicas for the streams and KV buckets this process creates (collector, gateway, operator CLI): 3 on a
     * three-node cluster. Never lowers an existing stream's replicas (ensureStreams).
     */
    stream_replicas: z
      .number({ error: 'expected 1, 3 or 5 (3 on a three-node cluster)' })
      .int()
      .min(1)
      .max(5)
      .default(1),
    tls: z
      .object({
        ca_file: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .default({ servers: ['nats://127.0.0.1:4222'], prefix: DEFAULT_PREFIX, stream_replicas: 1 });
export type NatsConfig = z.infer<typeof NatsConfig>;

/**
 * The files a `nats:` section names that this process cannot read, as config problems
 * (`nats.nkey_seed_file: cannot read /etc/offhook/nats.nk: ENOENT`). Checked at start: found only at connect time,
 * a missing seed left the agent logging one error and never connecting.
 */
export function unreadableNatsFiles(config: NatsConfig): string[] {
  const files: [string, string | undefined][] = [
    ['nats.nkey_seed_file', config.nkey_seed_file],
    ['nats.credentials_file', config.credentials_file],
    ['nats.tls.ca_file', config.tls?.ca_file],
    ['nats.tls.cert_file', config.tls?.cert_file],
    ['nats.tls.key_file', config.tls?.key_file],
  ];
  const problems: string[] = [];
  for (const [field, path] of files) {
    if (!path) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      problems.push(`${field}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return problems;
}

export interface ConnectOptions {
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  logger: Logger;
  registry?: Registry;
  /** Fail instead of waiting when the first connect is refused (CLI tools). */
  failFast?: boolean;
  /** Gives up the first connect when aborted: a process stopped while NATS is unreachable stops at once. */
  signal?: AbortSignal;
}

export function connectionOptions(config: NatsConfig, name: string, failFast = false): NodeConnectionOptions {
  const options: NodeConnectionOptions = {
    servers: config.servers,
    name,
    // A monitoring process must outlive any NATS outage: retry forever, with jitter so a fleet does not stampede.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    waitOnFirstConnect: !failFast,
    pingInterval: 20_000,
    maxPingOut: 3,
    // Each request (a JetStream publish, a KV put or get) otherwise captures the caller's stack up front in case it
    // fails: on an idle process that capture was ~5 % of an event's way from the collector's intake to the alert
    // record's write. A failed request still says what failed (subject, timeout, no responders) in its message.
    noAsyncTraces: true,
  };
  if (config.user !== undefined) options.user = config.user;
  if (config.password !== undefined) options.pass = config.password;
  if (config.token !== undefined) options.token = config.token;
  if (config.inbox_prefix !== undefined) options.inboxPrefix = config.inbox_prefix;
  if (config.nkey_seed_file) {
    const seed = readFileSync(config.nkey_seed_file, 'utf8').trim();
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (config.credentials_file) {
    options.authenticator = credsAuthenticator(readFileSync(config.credentials_file));
  }
  if (config.tls) {
    options.tls = {
      ...(config.tls.ca_file ? { caFile: config.tls.ca_file } : {}),
      ...(config.tls.cert_file ? { certFile: config.tls.cert_file } : {}),
      ...(config.tls.key_file ? { keyFile: config.tls.key_file } : {}),
    };
  }
  return options;
}

/**
 * The first connect, given up when `signal` aborts: rejects with the signal's reason at once, and ends nats.js's dial
 * loop at its next attempt (it asks reconnectToServer before every dial; throwing there ends the loop), so nothing
 * keeps retrying. A connection that still comes up in between is closed.
 */
async function connectUnlessAborted(options: NodeConnectionOptions, signal?: AbortSignal): Promise<NatsConnection> {
  if (!signal) return connect(options);
  signal.throwIfAborted();
  let first = true;
  options.reconnectToServer = () => {
    if (first && signal.aborted) throw signal.reason;
    return null;
  };
  const connecting = connect(options);
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const nc = await Promise.race([connecting, aborted]);
    first = false;
    return nc;
  } catch (err) {
    void connecting.then(
      (nc) => nc.close(),
      // The dial loop ended on the abort (or on the error already thrown above): nothing is left open.
      () => undefined,
    );
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Connects and keeps connecting: state changes are logged and exported as
 * offhook_nats_connected (0/1) and offhook_nats_reconnects_total.
 */
export async function connectNats(config: NatsConfig, options: ConnectOptions): Promise<NatsConnection> {
  const { logger, registry } = options;
  const connected = registry
    ? ((registry.getSingleMetric('offhook_nats_connected') as Gauge | undefined) ??
      new Gauge({ name: 'offhook_nats_connected', help: '1 while connected to NATS', registers: [registry] }))
    : undefined;
  const reconnects = registry ? counter(registry, 'offhook_nats_reconnects_total', 'Reconnections to NATS') : undefined;
  connected?.set(0);
  logger.info({ servers: config.servers }, 'connecting to NATS');
  const nc = await connectUnlessAborted(connectionOptions(config, options.name, options.failFast), options.signal);
  connected?.set(1);
  logger.info({ server: nc.getServer() }, 'connected to NATS');
  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          connected?.set(0);
          logger.warn({ server: status.server }, 'disconnected from NATS');
          break;
        case 'reconnect':
          connected?.set(1);
          reconnects?.inc();
          logger.info({ server: status.server }, 'reconnected to NATS');
          break;
        case 'error':
          logger.error({ err: status.error }, 'NATS connection error');
          break;
        default:
          break;
      }
    }
  })();
  void nc.closed().then((err) => {
    connected?.set(0);
    if (err) logger.error({ err }, 'NATS connection closed with error');
  });
  return nc;
}
