import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import * as z from 'zod';
import { Port, compileSafeRegex, RegexSource, type CheckStatus, type MetricPoint } from '../../../shared/index.ts';
import { CheckBase, definePlugin, type CheckOutcome } from '../types.ts';
import { elapsedMs, LineReader, openSocket, upgradeToTls } from './net.ts';
import { judgeCertificate, TlsPolicy, worst } from './tls-policy.ts';

/** How one greeting-first protocol says hello, upgrades to TLS and says goodbye. */
export interface BannerProtocol {
  kind: string;
  description: string;
  defaultPort: number;
  /** What a healthy server's first line looks like. */
  greeting: RegExp;
  /** Multi-line greetings (FTP "220-", SMTP "220-") continue until this matches. */
  lastGreetingLine?: RegExp;
  /** STARTTLS dialogue on the plain connection, when the protocol has one. */
  starttls?: (io: Dialogue) => Promise<void>;
  quit?: string;
  /** Telnet-style servers send negotiation bytes and a prompt without a newline. */
  acceptPartialGreeting?: boolean;
}

export interface Dialogue {
  send(line: string): void;
  /** Reads reply lines until `last` matches one; returns them all. */
  expect(last: RegExp, what: string): Promise<string[]>;
}

const TELNET_IAC = /\xff[\xfb-\xfe][\s\S]|\xff[\xf0-\xfa]/g;

function dialogue(socket: Socket, reader: LineReader): Dialogue {
  return {
    send: (line) => socket.write(`${line}\r\n`),
    async expect(last, what) {
      const lines: string[] = [];
      for (;;) {
        const line = await reader.next();
        lines.push(line);
        if (last.test(line)) return lines;
        if (/^[45]\d\d |^-ERR|^\S+ (NO|BAD)\b/.test(line))
          throw new Error(`${what}: server said ${JSON.stringify(line.slice(0, 200))}`);
        if (lines.length > 100) throw new Error(`${what}: no final reply line after 100 lines`);
      }
    },
  };
}

/** Reads the greeting; prompt-style servers (telnet) are read until `expected` matches or they go quiet. */
async function readGreeting(
  reader: LineReader,
  protocol: BannerProtocol,
  expected: RegExp,
  signal: AbortSignal,
): Promise<string[]> {
  if (protocol.acceptPartialGreeting) {
    const text = await new Promise<string>((resolve, reject) => {
      let seen = '';
      let firstDataAt = 0;
      const poll = setInterval(() => {
        seen += reader
          .takeLines()
          .map((l) => `${l}\n`)
          .join('');
        const raw = seen + reader.pending();
        if (raw.length > 0 && firstDataAt === 0) firstDataAt = Date.now();
        const clean = raw.replace(TELNET_IAC, '').trim();
        // Negotiation-only servers wait for our answers before printing a prompt: take what came after a moment.
        if ((clean.length > 0 && expected.test(clean)) || (firstDataAt > 0 && Date.now() - firstDataAt > 500)) {
          clearInterval(poll);
          resolve(clean);
        }
      }, 20);
      signal.addEventListener(
        'abort',
        () => {
          clearInterval(poll);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        },
        { once: true },
      );
    });
    return [text.replace(/\s*\n\s*/g, ' ')];
  }
  const lines = [await reader.next()];
  while (protocol.lastGreetingLine && !protocol.lastGreetingLine.test(lines[lines.length - 1]!) && lines.length < 50)
    lines.push(await reader.next());
  return lines;
}

/** Builds the plugin for one banner protocol: connect, read the greeting, optionally STARTTLS, quit. */
export function bannerPlugin<K extends string>(protocol: BannerProtocol & { kind: K }) {
  const schema = CheckBase.extend({
    kind: z.literal(protocol.kind),
    host: z.string().min(1).default('127.0.0.1'),
    port: Port.default(protocol.defaultPort),
    /** Regex the greeting must match; the protocol's usual greeting when omitted. */
    expect: RegexSource.optional(),
    /** Implicit TLS from the first byte (smtps 465, imaps 993, pop3s 995). */
    tls: z.boolean().default(false),
    ...(protocol.starttls ? { starttls: z.boolean().default(false) } : {}),
    ...TlsPolicy,
  })
    .strict()
    .refine((c) => !(c.tls && (c as { starttls?: boolean }).starttls), {
      error: 'expected either tls: (implicit TLS) or starttls:, not both',
      path: ['starttls'],
    });
  return definePlugin({
    kind: protocol.kind,
    description: protocol.description,
    configSchema: schema,
    create(raw) {
      const config = raw as z.infer<typeof schema> & { starttls?: boolean };
      const expected = config.expect ? compileSafeRegex(config.expect, '', 'expect') : protocol.greeting;
      const target = `${protocol.kind}${config.tls ? 's' : ''}://${config.host}:${config.port}`;
      return {
        target,
        async run({ signal }): Promise<CheckOutcome> {
          const start = process.hrtime.bigint();
          let socket: Socket | TLSSocket = await openSocket(
            { host: config.host, port: config.port, tls: config.tls, insecure: config.insecure },
            signal,
          );
          try {
            let reader = new LineReader(socket, signal);
            const greeting = await readGreeting(reader, protocol, expected, signal);
            const latencyMs = elapsedMs(start);
            const banner = greeting.join(' | ').slice(0, 300);
            if (!greeting.some((line) => expected.test(line))) {
              return {
                status: 'critical',
                message: `unexpected greeting ${JSON.stringify(banner)}, expected /${expected.source}/`,
                latencyMs,
                target,
              };
            }
            let status: CheckStatus = 'ok';
            let note = '';
            const metrics: MetricPoint[] = [];
            if (config.tls) {
              const cert = judgeCertificate(socket as TLSSocket, config);
              status = worst(status, cert.status);
              note = `; ${cert.note}`;
              metrics.push(...cert.metrics);
            } else if (config.starttls && protocol.starttls) {
              await protocol.starttls(dialogue(socket, reader));
              reader.detach();
              socket = await upgradeToTls(socket, config.host, config.insecure, signal);
              reader = new LineReader(socket, signal);
              const cert = judgeCertificate(socket as TLSSocket, config);
              status = worst(status, cert.status);
              note = `; STARTTLS ok, ${cert.note}`;
              metrics.push(...cert.metrics);
            }
            if (protocol.quit) socket.write(`${protocol.quit}\r\n`);
            return { status, message: `${banner}${note}`, latencyMs, target, metrics };
          } finally {
            socket.destroy();
          }
        },
      };
    },
  });
}
