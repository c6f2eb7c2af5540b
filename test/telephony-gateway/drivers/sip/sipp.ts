import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeRtpRange, freeSipPort } from '../../../../telephony-gateway/drivers/sip/ports.ts';
import { spawnTracked } from '../../../../deploy/lib/processes.ts';

export const SCENARIOS = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');

export interface Sipp {
  child: ChildProcess;
  port: number;
  /** SIPp's exit code: 0 when every call of the scenario succeeded. */
  exited: Promise<number | null>;
  output(): string;
}

/** True once something listens on UDP 127.0.0.1:port (read from /proc, so the probe never steals the port). */
async function bound(port: number, protocol: 'udp' | 'tcp'): Promise<boolean> {
  const table = await readFile(`/proc/net/${protocol}`, 'utf8');
  const needle = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((line) => line.trim().split(/\s+/)[1] === needle);
}

/**
 * Starts SIPp on ephemeral loopback ports with one of our scenarios (or a built-in one via `-sn`)
 * and resolves once its SIP socket is bound. `target` makes it a UAC calling that address.
 */
export async function startSipp(
  scenario: string,
  options: { target?: string; extra?: string[]; transport?: 'u1' | 't1' } = {},
): Promise<Sipp> {
  const port = await freeSipPort('127.0.0.1');
  const mediaPort = Number((await freeRtpRange('127.0.0.1', 4)).split('-')[0]);
  const args = [
    ...(scenario.startsWith('-sn ') ? ['-sn', scenario.slice(4)] : ['-sf', join(SCENARIOS, scenario)]),
    ...(options.target ? [options.target] : []),
    '-i',
    '127.0.0.1',
    '-p',
    String(port),
    '-mi',
    '127.0.0.1',
    '-mp',
    String(mediaPort),
    '-t',
    options.transport ?? 'u1',
    '-m',
    '1',
    '-nostdin',
    '-timeout',
    '60s',
    ...(options.extra ?? []),
  ];
  const child = spawnTracked('sipp', args);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 10_000;
  while (!(await bound(port, options.transport === 't1' ? 'tcp' : 'udp'))) {
    if (child.exitCode !== null) throw new Error(`sipp exited early (${child.exitCode}): ${output.slice(-2000)}`);
    if (Date.now() > deadline) throw new Error('sipp did not bind its port within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 10)); // polling a condition; the deadline is the failure bound
  }
  return { child, port, exited, output: () => output };
}
