import { createRequire } from 'node:module';
import { connect as connectTcp, isIP, type Socket } from 'node:net';
import type * as Tls from 'node:tls';

// require() at the first TLS connect, not an ES import: node's ES facade of a built-in reads every export once, and
// node:tls's `rootCertificates` getter then parses the ~140 bundled CA certificates, held for the collector's life
// although most setups never speak IRC over TLS (as the agent's probes do, agent/checks/probes/net.ts).
const requireBuiltin = createRequire(import.meta.url);

export interface IrcDelivery {
  host: string;
  port: number;
  tls: boolean;
  tlsVerify: boolean;
  nick: string;
  username: string;
  realname: string;
  password?: string | undefined;
  channel: string;
  channelKey?: string | undefined;
  /** NOTICE instead of PRIVMSG: bots are expected not to answer notices. */
  notice: boolean;
  lines: string[];
  signal: AbortSignal;
}

export class IrcError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/** Server replies that will not change by trying again (RFC 2812 numerics). */
const PERMANENT = new Map<string, string>([
  ['403', 'no such channel'],
  ['464', 'server password refused'],
  ['465', 'banned from this server'],
  ['473', 'channel is invite-only'],
  ['474', 'banned from channel'],
  ['475', 'wrong channel key'],
  ['477', 'channel needs a registered nick'],
]);
const TRANSIENT = new Map<string, string>([
  ['471', 'channel is full'],
  ['437', 'nick or channel temporarily unavailable'],
]);
const MAX_LINE_BYTES = 510;

/** Refuses anything that could end or extend a protocol line; callers sanitise text first, this is the backstop. */
function assertSafe(parameter: string): string {
  if (/[\r\n\0]/.test(parameter)) throw new IrcError('refusing to send CR, LF or NUL to the IRC server', false);
  return parameter;
}

/** Cuts UTF-8 text to a byte budget without splitting a character. */
export function fitBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > maxBytes - 3) break;
    out += ch;
  }
  return `${out}...`;
}

/**
 * One short session: register, join, say the lines, quit. A connection per notification keeps
 * the collector free of reconnect state; alerts are rare enough that the join noise is acceptable.
 */
export function deliverToChannel(options: IrcDelivery): Promise<void> {
  return new Promise((resolve, reject) => {
    let nick = options.nick;
    let nickTries = 0;
    let said = false;
    let settled = false;
    let buffered = '';
    const socket: Socket = options.tls
      ? (requireBuiltin('node:tls') as typeof Tls).connect({
          host: options.host,
          port: options.port,
          rejectUnauthorized: options.tlsVerify,
          // SNI names a host, never an address (RFC 6066; node warns and will ignore one).
          ...(isIP(options.host) ? {} : { servername: options.host }),
        })
      : connectTcp({ host: options.host, port: options.port });
    socket.setEncoding('utf8');

    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve();
    };
    const onAbort = (): void =>
      finish(new IrcError(`aborted: ${(options.signal.reason as Error)?.message ?? 'timeout'}`, true));
    options.signal.addEventListener('abort', onAbort, { once: true });

    const send = (line: string): void => {
      socket.write(`${assertSafe(line)}\r\n`);
    };
    const sayAndQuit = (): void => {
      if (said) return;
      said = true;
      const verb = options.notice ? 'NOTICE' : 'PRIVMSG';
      // Room for the ":nick!user@host " prefix the server adds when relaying.
      const budget = MAX_LINE_BYTES - 100 - verb.length - options.channel.length;
      for (const line of options.lines) send(`${verb} ${options.channel} :${fitBytes(line, budget)}`);
      send('QUIT :offhook done');
    };

    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      try {
        if (options.password) send(`PASS ${options.password}`);
        send(`NICK ${nick}`);
        send(`USER ${options.username} 0 * :${options.realname}`);
      } catch (err) {
        finish(err as Error);
      }
    });

    socket.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, end).replace(/\r$/, '');
        buffered = buffered.slice(end + 1);
        try {
          handle(line);
        } catch (err) {
          finish(err as Error);
        }
      }
      if (buffered.length > 8192) finish(new IrcError('IRC server sent an over-long line', true));
    });

    const handle = (line: string): void => {
      const parts = line.split(' ');
      const command = line.startsWith(':') ? parts[1] : parts[0];
      if (command === 'PING') return send(`PONG ${line.slice(line.indexOf('PING') + 5)}`);
      if (command === 'ERROR') {
        // After our QUIT the server says ERROR :Closing connection; that is the happy ending.
        if (said) return;
        return finish(new IrcError(`IRC server closed the session: ${line.slice(0, 200)}`, true));
      }
      if (command === '001') {
        const key = options.channelKey ? ` ${options.channelKey}` : '';
        return send(`JOIN ${options.channel}${key}`);
      }
      if (command === '433' || command === '432') {
        if (command === '432' || ++nickTries > 3)
          return finish(new IrcError(`nick "${options.nick}" refused (${command})`, command === '433'));
        nick = `${options.nick.slice(0, 28)}${nickTries}`;
        return send(`NICK ${nick}`);
      }
      if (command === 'JOIN' && parts[0]?.slice(1).split('!')[0] === nick) return sayAndQuit();
      // End of NAMES also means we are in (some servers send it before echoing JOIN).
      if (command === '366') return sayAndQuit();
      if (command && PERMANENT.has(command))
        return finish(new IrcError(`${PERMANENT.get(command)}: ${line.slice(0, 200)}`, false));
      if (command && TRANSIENT.has(command))
        return finish(new IrcError(`${TRANSIENT.get(command)}: ${line.slice(0, 200)}`, true));
    };

    socket.on('error', (err) => finish(new IrcError(`IRC connection failed: ${err.message}`, true)));
    socket.on('close', () => {
      if (said) finish();
      else finish(new IrcError('IRC server closed the connection before the message was sent', true));
    });
  });
}
