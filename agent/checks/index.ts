import type * as z from 'zod';
import { configUnion } from '../../shared/config-union.ts';
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

/**
 * Every check kind the agent knows. Adding one = a new file in this folder, its import and its entry here: its
 * config schema joins CheckConfig below through this tuple (keep `as const`, it carries each schema's type).
 */
export const checkPlugins = [
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
] as const satisfies readonly CheckPlugin[];

const byKind = new Map<string, CheckPlugin>();
for (const plugin of checkPlugins)
  for (const kind of [plugin.kind, ...(plugin.aliases ?? [])]) byKind.set(kind, plugin);

export function pluginFor(kind: string): CheckPlugin | undefined {
  return byKind.get(kind);
}

export const checkKinds = [...byKind.keys()];

/** `checks:` entries, validated by the schema of the plugin their `kind:` names. */
export const CheckConfig = configUnion(checkPlugins, `expected kind: one of ${checkKinds.join(', ')}`);
export type CheckConfig = z.infer<typeof CheckConfig>;

export type { CheckPlugin, CheckInstance, CheckOutcome, CheckContext } from './types.ts';
