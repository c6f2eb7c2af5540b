import * as z from 'zod';
import { Port } from '../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from './types.ts';
import { elapsedMs, openSocket } from './probes/net.ts';

const MysqlConfig = CheckBase.extend({
  kind: z.literal('mysql'),
  host: z.string().min(1).default('127.0.0.1'),
  port: Port.default(3306),
  /**
   * Without a user only the server greeting is read (note: servers count unauthenticated connects in max_connect_errors
   * for remote hosts).
   */
  user: z.string().min(1).optional(),
  password: z.string().default(''),
  database: z.string().optional(),
  /** Run after login; the check fails if it errors. The first column of the first row is reported. */
  query: z.string().min(1).optional(),
})
  .strict()
  .refine((c) => c.query === undefined || c.user !== undefined, {
    error: 'expected user: too, a query needs credentials',
    path: ['query'],
  });

/** Parses the protocol-10 initial handshake: version byte, then the NUL-terminated server version. */
export function parseHandshake(packet: Buffer): { protocol: number; serverVersion: string } | { error: string } {
  if (packet.length < 5) return { error: 'short packet' };
  const payload = packet.subarray(4, 4 + packet.readUIntLE(0, 3));
  if (payload[0] === 0xff)
    return {
      error: `server refused: ${payload
        .subarray(3)
        .toString('utf8')
        .replace(/^#\w{5}/, '')}`,
    };
  if (payload[0] !== 10) return { error: `unexpected protocol version ${payload[0]}` };
  const end = payload.indexOf(0, 1);
  return { protocol: 10, serverVersion: payload.subarray(1, end < 0 ? undefined : end).toString('latin1') };
}

async function readHandshake(config: z.infer<typeof MysqlConfig>, signal: AbortSignal): Promise<{ version: string }> {
  const socket = await openSocket({ host: config.host, port: config.port }, signal);
  try {
    const packet = await new Promise<Buffer>((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 4 && buffered.length >= 4 + buffered.readUIntLE(0, 3)) resolve(buffered);
      });
      socket.once('close', () => reject(new Error('connection closed before the server greeting')));
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
    const parsed = parseHandshake(packet);
    if ('error' in parsed) throw new Error(parsed.error);
    return { version: parsed.serverVersion };
  } finally {
    socket.destroy();
  }
}

export default definePlugin({
  kind: 'mysql',
  description:
    'MySQL/MariaDB: protocol handshake; with user/password logs in and optionally runs a query (e.g. SELECT 1)',
  configSchema: MysqlConfig,
  create(config) {
    const target = `mysql://${config.host}:${config.port}`;
    return {
      target,
      async run({ signal, timeoutMs }): Promise<CheckOutcome> {
        const start = process.hrtime.bigint();
        if (!config.user) {
          const { version } = await readHandshake(config, signal);
          const latencyMs = elapsedMs(start);
          return { status: 'ok', message: `handshake from server ${version} in ${latencyMs} ms`, latencyMs, target };
        }
        // Loaded on first use: most agents have no mysql check and the driver is a large module.
        const { default: mysql } = await import('mysql2/promise');
        const connection = await mysql.createConnection({
          host: config.host,
          port: config.port,
          user: config.user,
          password: config.password,
          ...(config.database ? { database: config.database } : {}),
          connectTimeout: timeoutMs,
        });
        const onAbort = (): void => connection.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          const version =
            (connection as unknown as { connection?: { _handshakePacket?: { serverVersion?: string } } }).connection
              ?._handshakePacket?.serverVersion ?? 'unknown';
          if (!config.query) {
            const latencyMs = elapsedMs(start);
            return { status: 'ok', message: `logged in to server ${version} in ${latencyMs} ms`, latencyMs, target };
          }
          const [rows] = await connection.query({ sql: config.query, timeout: timeoutMs, rowsAsArray: true });
          const latencyMs = elapsedMs(start);
          const first = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as unknown[])[0] : undefined;
          const metrics =
            typeof first === 'number' || (typeof first === 'string' && first !== '' && Number.isFinite(Number(first)))
              ? [{ name: 'probe_mysql_query_value', type: 'gauge' as const, value: Number(first) }]
              : [];
          return {
            status: 'ok',
            message: `${config.query} returned ${JSON.stringify(first ?? null)} in ${latencyMs} ms`,
            latencyMs,
            target,
            metrics,
          };
        } finally {
          signal.removeEventListener('abort', onAbort);
          connection.destroy();
        }
      },
    };
  },
});
