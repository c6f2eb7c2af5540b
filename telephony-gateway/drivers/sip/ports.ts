import { createSocket } from 'node:dgram';
import { tcpPortFree as tcpFree } from '../../../shared/index.ts';

/**
 * Free ports for one baresip start. A port found free can be taken again before baresip binds it,
 * so the supervisor treats "Address already in use" from baresip as "pick again", not as a fault.
 */

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address: host, port, exclusive: true }, () => socket.close(() => resolve(true)));
  });
}

/** A port free for UDP and TCP, with the next one free for TCP (baresip's sip_listen binds both, TLS on port + 1). */
export async function freeSipPort(host: string, attempts = 20): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const port = await tcpFree(host, 0);
    if (port !== null && port < 65535 && (await udpFree(host, port)) && (await tcpFree(host, port + 1)) !== null)
      return port;
  }
  throw new Error(`no port free for both UDP and TCP on ${host} after ${attempts} tries`);
}

/** A range of `width` consecutive UDP ports, all free now, starting on an even port (RTP convention). */
export async function freeRtpRange(host: string, width = 16, attempts = 20): Promise<string> {
  for (let i = 0; i < attempts; i++) {
    const first = 20_000 + 2 * Math.floor(Math.random() * 19_000);
    let allFree = true;
    for (let port = first; port < first + width && allFree; port++) allFree = await udpFree(host, port);
    if (allFree) return `${first}-${first + width - 1}`;
  }
  throw new Error(`no ${width} consecutive free UDP ports on ${host} after ${attempts} tries`);
}
