import { accessSync, constants } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { ConfigError } from './config.ts';
import { loadConfigFile } from './config-file.ts';
import { UsageError } from './exit.ts';
import { silentLogger } from './logger.ts';
import { connectNats, NatsConfig, type NatsConnection } from './nats.ts';
import { formatZodIssueLines } from './zod-errors.ts';

/** The connection flags every NATS-using operator command takes (the `nats` CLI's names where it has them). */
export interface NatsFlags {
  nats?: string;
  server?: string;
  config?: string;
  prefix?: string;
  creds?: string;
  nkey?: string;
  user?: string;
  password?: string;
}

export interface CliNats {
  nats: NatsConfig;
  /** Where the server list came from: "--nats", "NATS_URL", "collector.yaml" or "default". */
  source: string;
  /** The config file's top level (a gateway's gateway_host, for example), empty without a file. */
  file: Record<string, unknown>;
}

const DEFAULT_URL = 'nats://127.0.0.1:4222';
const FileWithNats = z.object({ nats: NatsConfig }).loose();
type Auth = Pick<NatsConfig, 'user' | 'password' | 'token' | 'nkey_seed_file' | 'credentials_file'>;

export function addNatsOptions(
  command: Command,
  configHelp = 'take the nats: section from this offhook config file',
): Command {
  return command
    .option(
      '--nats, --server <url>',
      `NATS server URL(s), comma-separated (else $NATS_URL, else the config file, else ${DEFAULT_URL})`,
    )
    .option('--config <file>', configHelp)
    .option('--prefix <prefix>', 'subject prefix of the offhook install (else the config file, else "offhook")')
    .option('--creds <file>', 'NATS credentials file (else $NATS_CREDS)')
    .option('--nkey <file>', 'NATS nkey seed file (else $NATS_NKEY)')
    .option('--user <name>', 'NATS user (else $NATS_USER)')
    .option('--password <secret>', 'NATS password (else $NATS_PASSWORD)');
}

/** A default config file the operator may not be allowed to read (root:offhook 0640) is skipped, not an error. */
function readable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    // Absent or not ours to read: the flags, NATS_URL or the default say where to connect instead.
    return false;
  }
}

function servers(text: string, from: string): string[] {
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) {
    throw new UsageError(`${from}: expected a NATS URL like nats://host:4222, got ${JSON.stringify(text)}`);
  }
  return list;
}

interface AuthValues {
  creds?: string | undefined;
  nkey?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
}

function authFrom(values: AuthValues): Auth | null {
  const auth: Auth = {};
  if (values.creds) auth.credentials_file = values.creds;
  if (values.nkey) auth.nkey_seed_file = values.nkey;
  if (values.user) auth.user = values.user;
  if (values.password) auth.password = values.password;
  return Object.keys(auth).length > 0 ? auth : null;
}

/**
 * Which NATS an operator command asks, with the `nats` CLI's precedence: flag, then environment (NATS_URL,
 * NATS_CREDS, NATS_NKEY, NATS_USER, NATS_PASSWORD), then the config file, then the default. Credentials go as one
 * set: any credential from a higher level replaces all of a lower level's, so a file's password never rides along
 * with NATS_CREDS. TLS settings come from the file only.
 */
export function resolveCliNats(flags: NatsFlags, env: NodeJS.ProcessEnv = process.env, defaultFile?: string): CliNats {
  const configFile = flags.config ?? (defaultFile && readable(defaultFile) ? defaultFile : undefined);
  const file = configFile ? loadConfigFile(configFile, z.record(z.string(), z.unknown())) : null;
  let fileNats = NatsConfig.parse(undefined);
  if (file && configFile) {
    const parsed = FileWithNats.safeParse(file);
    if (!parsed.success) throw new ConfigError(basename(configFile), formatZodIssueLines(parsed.error, file));
    fileNats = parsed.data.nats;
  }
  const fileSetServers = (file?.nats as { servers?: unknown } | null | undefined)?.servers !== undefined;
  const flagUrl = flags.nats ?? flags.server;
  let source: string;
  let list: string[];
  if (flagUrl !== undefined) [source, list] = ['--nats', servers(flagUrl, '--nats')];
  else if (env.NATS_URL) [source, list] = ['NATS_URL', servers(env.NATS_URL, 'NATS_URL')];
  else if (fileSetServers && configFile) [source, list] = [basename(configFile), fileNats.servers];
  else [source, list] = ['default', [DEFAULT_URL]];
  const { user: _u, password: _p, token: _t, nkey_seed_file: _n, credentials_file: _c, ...rest } = fileNats;
  const fromEnv = { creds: env.NATS_CREDS, nkey: env.NATS_NKEY, user: env.NATS_USER, password: env.NATS_PASSWORD };
  const auth = authFrom(flags) ??
    authFrom(fromEnv) ?? { user: _u, password: _p, token: _t, nkey_seed_file: _n, credentials_file: _c };
  const defined = Object.fromEntries(Object.entries(auth).filter(([, v]) => v !== undefined)) as Auth;
  if (flags.prefix !== undefined && !/^[A-Za-z0-9_-]+$/.test(flags.prefix)) {
    throw new UsageError(`--prefix: expected one NATS token [A-Za-z0-9_-]+, got ${JSON.stringify(flags.prefix)}`);
  }
  const nats: NatsConfig = { ...rest, ...defined, servers: list, prefix: flags.prefix ?? fileNats.prefix };
  return { nats, source, file: file ?? {} };
}

/** "nats://a:4222 (from NATS_URL), prefix offhook": what a command says it asked, so a wrong server shows. */
export function describeCliNats(resolved: CliNats): string {
  return `${resolved.nats.servers.join(',')} (from ${resolved.source}), prefix ${resolved.nats.prefix}`;
}

/** Connects once, without retrying: an operator waiting at a prompt wants the failure now, with the server named. */
export async function connectCliNats(resolved: CliNats, name: string): Promise<NatsConnection> {
  try {
    return await connectNats(resolved.nats, { name, logger: silentLogger(), failFast: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = (err as Error).message;
    if (code === 'ENOENT' || code === 'EACCES') throw new UsageError(`cannot read the NATS credentials: ${message}`);
    const hint = 'pass --nats URL, set NATS_URL or --config FILE';
    throw new Error(`cannot connect to NATS at ${describeCliNats(resolved)}: ${message} (${hint})`);
  }
}
