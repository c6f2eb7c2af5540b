import { createHash, randomBytes } from 'node:crypto';
import { selfSignedCertificate } from '../../../helpers/certificate.ts';
import { createServer, type Server, type TLSSocket } from 'node:tls';

/**
 * A SIP registrar over TLS for the one thing Debian's SIPp cannot do (it is built without TLS):
 * challenges REGISTER with a digest 401 and answers 200 only to the right user and password.
 */
export interface TlsRegistrar {
  port: number;
  /** Every REGISTER seen: its Via transport and whether its credentials were right. */
  registers: Array<{ via: string; authorised: boolean | null }>;
  close(): Promise<void>;
}

const md5 = (text: string): string => createHash('md5').update(text).digest('hex');

export async function startTlsRegistrar(
  dir: string,
  realm: string,
  user: string,
  password: string,
): Promise<TlsRegistrar> {
  const nonce = randomBytes(16).toString('hex');
  const registers: TlsRegistrar['registers'] = [];
  const server: Server = createServer(
    selfSignedCertificate(dir, { name: 'registrar', days: 1, commonName: '127.0.0.1' }),
    (socket: TLSSocket) => {
      let pending = '';
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        pending += chunk.toString('utf8');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const request = pending.slice(0, end);
          pending = pending.slice(end + 4);
          const lines = request.split('\r\n');
          if (!lines[0]!.startsWith('REGISTER ')) continue;
          const header = (name: string): string =>
            lines
              .find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`))
              ?.slice(name.length + 1)
              .trim() ?? '';
          const authorization = header('Authorization');
          let authorised: boolean | null = null;
          if (authorization) {
            const field = (name: string): string => new RegExp(`${name}="?([^",]*)"?`).exec(authorization)?.[1] ?? '';
            const expected = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:${md5(`REGISTER:${field('uri')}`)}`);
            authorised = field('username') === user && field('response') === expected;
          }
          registers.push({ via: header('Via'), authorised });
          const status = authorised === null ? '401 Unauthorized' : authorised ? '200 OK' : '403 Forbidden';
          const extra =
            authorised === null
              ? [`WWW-Authenticate: Digest realm="${realm}", nonce="${nonce}", algorithm=MD5`]
              : authorised
                ? [`Contact: ${header('Contact').replace(/;expires=\d+/, '')};expires=600`]
                : [];
          const to = header('To');
          socket.write(
            [
              `SIP/2.0 ${status}`,
              `Via: ${header('Via')}`,
              `From: ${header('From')}`,
              `To: ${to}${to.includes('tag=') ? '' : ';tag=reg1'}`,
              `Call-ID: ${header('Call-ID')}`,
              `CSeq: ${header('CSeq')}`,
              ...extra,
              'Content-Length: 0',
              '',
              '',
            ].join('\r\n'),
          );
        }
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    registers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
