import { z } from 'zod';
import type { CheckPlugin } from './types.ts';
import tcp from './tcp.ts';
import http from './http.ts';
import ssh from './ssh.ts';
import ftp from './ftp.ts';
import smtp from './smtp.ts';
import pop3 from './pop3.ts';
import imap from './imap.ts';
import telnet from './telnet.ts';
import dns from './dns.ts';
import mysql from './mysql.ts';
import apache from './apache.ts';
import processCheck from './process.ts';
import nagios from './nagios.ts';

/** Every check kind the agent knows. Adding one = a new file in this folder + one line here. */
export const checkPlugins: readonly CheckPlugin[] = [
  tcp,
  http,
  ssh,
  ftp,
  smtp,
  pop3,
  imap,
  telnet,
  dns,
  mysql,
  apache,
  processCheck,
  nagios,
];

const byKind = new Map<string, CheckPlugin>();
for (const plugin of checkPlugins)
  for (const kind of [plugin.kind, ...(plugin.aliases ?? [])]) byKind.set(kind, plugin);

export function pluginFor(kind: string): CheckPlugin | undefined {
  return byKind.get(kind);
}

export const checkKinds = [...byKind.keys()];

type Schemas = [z.ZodType, ...z.ZodType[]];
/** `checks:` entries, validated by the schema of the plugin their `kind:` names. */
export const CheckConfig = z.discriminatedUnion(
  'kind',
  checkPlugins.map((p) => p.configSchema) as unknown as Schemas as never,
  { error: `expected kind: one of ${checkKinds.join(', ')}` },
);
export type CheckConfig = {
  kind: string;
  name: string;
  interval: number;
  timeout: number;
  labels?: Record<string, string>;
  retry_interval?: number;
  retry_attempts?: number;
} & Record<string, unknown>;

export type { CheckPlugin, CheckInstance, CheckOutcome, CheckContext } from './types.ts';
