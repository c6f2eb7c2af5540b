import { createRequire } from 'node:module';
import { connect as netConnect, type Socket } from 'node:net';
import type * as Tls from 'node:tls';
import type { TLSSocket, PeerCertificate } from 'node:tls';

// require(), not an ES import: node's ES facade of a built-in reads every export once, and node:tls's
// `rootCertificates` getter then parses the ~140 bundled CA certificates, held for the agent's life although no
// default check uses TLS (~0.2 MiB RSS; agent/README.md, Footprint). The NATS client requires node:tls as well.
const { connect: tlsConnect } = createRequire(import.meta.url)('node:tls') as typeof Tls;

/** Time since `start` in ms with 0.01 ms resolution. */
export function elapsedMs(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 10_000) / 100;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Opens a TCP (or TLS) connection; the socket is destroyed when `signal` aborts. */
export function openSocket(
  options: { host: string; port: number; tls?: boolean; insecure?: boolean; servername?: string },
  signal: AbortSignal,
): Promise<Socket | TLSSocket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const socket = options.tls
      ? tlsConnect({
          host: options.host,
          port: options.port,
          rejectUnauthorized: !options.insecure,
          servername: options.servername ?? sniName(options.host),
        })
      : netConnect({ host: options.host, port: options.port });
    const onAbort = (): void => {
      socket.destroy();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      socket.removeAllListeners('error');
      // Later errors surface through LineReader; an unhandled 'error' must never crash the agent.
      socket.on('error', () => undefined);
      signal.addEventListener('abort', () => socket.destroy(), { once: true });
      resolve(socket);
    });
  });
}

/** SNI must not be an IP address (RFC 6066). */
function sniName(host: string): string | undefined {
  return /^[\d.]+$|:/.test(host) ? undefined : host;
}

/** Upgrades a plain socket after STARTTLS/STLS. */
export function upgradeToTls(socket: Socket, host: string, insecure: boolean, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({ socket, rejectUnauthorized: !insecure, servername: sniName(host) });
    const onAbort = (): void => {
      secure.destroy();
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    secure.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    secure.once('secureConnect', () => {
      secure.removeAllListeners('error');
      secure.on('error', () => undefined); // as in connect(): later errors surface through LineReader
      resolve(secure);
    });
  });
}

const MAX_LINE_BYTES = 8192;

/** Reads CRLF/LF-terminated lines from a socket, with a byte cap so a hostile server cannot fill memory. */
export class LineReader {
  private buffer = '';
  private lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (err: Error) => void } | null = null;
  private ended: Error | null = null;
  private readonly onData = (chunk: Buffer): void => {
    this.buffer += chunk.toString('latin1');
    let at: number;
    while ((at = this.buffer.indexOf('\n')) >= 0) {
      this.lines.push(this.buffer.slice(0, at).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(at + 1);
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.lines.push(this.buffer.slice(0, MAX_LINE_BYTES));
      this.buffer = '';
    }
    this.flush();
  };
  private readonly onEnd = (err?: Error): void => {
    // A greeting without a final newline (telnet prompts) is still an answer.
    if (this.buffer.length > 0) {
      this.lines.push(this.buffer);
      this.buffer = '';
    }
    this.ended = err instanceof Error ? err : new Error('connection closed by the server');
    this.flush();
  };

  constructor(
    private readonly socket: Socket,
    readonly signal: AbortSignal,
  ) {
    socket.on('data', this.onData);
    socket.once('end', () => this.onEnd());
    socket.once('close', () => this.onEnd());
    socket.on('error', (err) => this.onEnd(err));
    signal.addEventListener('abort', () => this.onEnd(abortError(signal)), { once: true });
  }

  /** Bytes received so far that do not end in a newline (prompts such as "login: "). */
  pending(): string {
    return this.buffer;
  }

  /** Complete lines received so far, without waiting. */
  takeLines(): string[] {
    return this.lines.splice(0);
  }

  /** Waits for the partial line to become non-empty too, for protocols whose greeting lacks a newline. */
  next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.reject(this.ended);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  private flush(): void {
    if (!this.waiting) return;
    const line = this.lines.shift();
    if (line !== undefined) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve(line);
    } else if (this.ended) {
      const { reject } = this.waiting;
      this.waiting = null;
      reject(this.ended);
    }
  }

  detach(): void {
    this.socket.off('data', this.onData);
  }
}

/** Days until the certificate expires (negative when expired) and its expiry as epoch seconds. */
export function certificateExpiry(
  socket: TLSSocket,
  now = Date.now(),
): { daysLeft: number; notAfterSec: number; subject: string } | null {
  const cert: PeerCertificate = socket.getPeerCertificate(false);
  if (!cert?.valid_to) return null;
  const notAfter = Date.parse(cert.valid_to);
  return {
    daysLeft: Math.floor((notAfter - now) / 86_400_000),
    notAfterSec: Math.floor(notAfter / 1000),
    subject: cert.subject?.CN ? String(cert.subject.CN) : '',
  };
}
