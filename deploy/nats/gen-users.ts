// Writes the users file for the OFFHOOK account (roles + one agent per host) and keeps their secrets.
// Usage: deploy/nats/gen-users.mjs --hosts web1,db1 [--hosts-file FILE] [--auth nkey|password]
//          [--prefix offhook] [--secrets-dir /etc/offhook/nats-credentials] [--out /etc/nats/offhook-users.conf]
//          [--example]   (placeholders instead of secrets: the users.example.conf shipped in the repo)
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { hostToken, Subjects } from '../../shared/index.ts';
import { CredentialStore, type AuthMode } from './credentials.ts';
import { agentInboxPrefix, agentUserName } from './permissions.ts';
import { renderUsersConf, userEntries, type UserAuth } from './users-conf.ts';

export interface GenerateOptions {
  hosts: string[];
  prefix: string;
  auth: AuthMode;
  /** Where secrets live; required unless `example`. */
  secretsDir?: string;
  example?: boolean;
}

export interface Generated {
  text: string;
  /** Host name as given → host token used in subjects. */
  agents: { host: string; token: string; user: string; inboxPrefix: string; secretFile?: string }[];
}

/**
 * Host tokens must be unique after mapping (web1.example.com and web1_example_com collide), so check before writing.
 */
export function parseHosts(names: string[]): { host: string; token: string }[] {
  const seen = new Map<string, string>();
  return names
    .map((host) => {
      const token = hostToken(host);
      const other = seen.get(token);
      if (other !== undefined && other !== host)
        throw new Error(
          `hosts ${JSON.stringify(other)} and ${JSON.stringify(host)} both map to the subject token "${token}"`,
        );
      seen.set(token, host);
      return { host, token };
    })
    .filter((entry, i, all) => all.findIndex((e) => e.token === entry.token) === i);
}

export function generateUsers(options: GenerateOptions): Generated {
  const subjects = new Subjects(options.prefix);
  const hosts = parseHosts(options.hosts);
  const store = options.example ? undefined : new CredentialStore(requireDir(options.secretsDir), options.auth);
  const authFor = (user: string): UserAuth => {
    if (store) return store.authFor(user);
    return options.auth === 'nkey' ? { nkey: `<public nkey of ${user}>` } : { password: `<password of ${user}>` };
  };
  const header = [
    `offhook NATS users (account OFFHOOK), written by deploy/nats/gen-users.ts: ` +
      `re-run it instead of editing this file.`,
    `prefix: ${options.prefix}   auth: ${options.auth}   agents: ${hosts.map((h) => h.token).join(' ') || '(none)'}`,
    ...(options.example ? ['EXAMPLE: placeholders instead of keys; nats-server refuses to start with it as is.'] : []),
    `Agents publish only ${subjects.root}.events.<host>.> and ${subjects.root}.heartbeat.<host>, and subscribe only to`,
    `their own reply subjects: each agent.yaml needs nats.inbox_prefix: _INBOX_<host>.`,
  ];
  const text = renderUsersConf(
    userEntries(
      subjects,
      hosts.map((h) => h.token),
      authFor,
    ),
    header,
  );
  return {
    text,
    agents: hosts.map(({ host, token }) => ({
      host,
      token,
      user: agentUserName(token),
      inboxPrefix: agentInboxPrefix(token),
      ...(store ? { secretFile: store.path(agentUserName(token)) } : {}),
    })),
  };
}

function requireDir(dir: string | undefined): string {
  if (!dir) throw new Error('--secrets-dir is required (where the nkey seeds / passwords are kept), or pass --example');
  return dir;
}

function readHostsFile(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      hosts: { type: 'string', default: '' },
      'hosts-file': { type: 'string' },
      auth: { type: 'string', default: 'nkey' },
      prefix: { type: 'string', default: 'offhook' },
      'secrets-dir': { type: 'string' },
      out: { type: 'string' },
      example: { type: 'boolean', default: false },
    },
  });
}

export const USAGE = `Usage: gen-users.mjs --hosts web1,db1 [--hosts-file FILE] [--auth nkey|password]
         [--prefix offhook] [--secrets-dir DIR] [--out FILE] [--example]
Writes the nats-server users file for the OFFHOOK account (the roles and one agent user per host) and keeps each
user's nkey seed or password in --secrets-dir. Without --out the file goes to stdout.
  --hosts LIST        comma-separated agent host names
  --hosts-file FILE   one host name per line (# comments)
  --auth MODE         nkey (default: the server holds public keys only) or password
  --prefix P          subject prefix, as nats.prefix in the offhook configs (default offhook)
  --secrets-dir DIR   where seeds/passwords are created and kept (needed unless --example)
  --out FILE          write here (atomically) instead of stdout, e.g. /etc/nats/users.conf
  --example           placeholders instead of secrets (deploy/nats/users.example.conf)
  -h, --help          this text
`;

/** A mistyped command line: usage problems exit 2, like the other scripts in deploy/. */
export class UsageError extends Error {}

export function main(argv: string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see --help)`);
  }
  const { values } = parsed;
  if (values.auth !== 'nkey' && values.auth !== 'password')
    throw new Error(`--auth: expected nkey or password, got ${JSON.stringify(values.auth)}`);
  const hosts = [
    ...values.hosts
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean),
    ...(values['hosts-file'] ? readHostsFile(values['hosts-file']) : []),
  ];
  const generated = generateUsers({
    hosts,
    prefix: values.prefix,
    auth: values.auth,
    secretsDir: values['secrets-dir'],
    example: values.example,
  });
  if (!values.out) {
    process.stdout.write(generated.text);
    return;
  }
  // Write-then-rename: a reload never sees half a file.
  writeFileSync(`${values.out}.tmp`, generated.text, { mode: 0o640 });
  renameSync(`${values.out}.tmp`, values.out);
  process.stdout.write(`wrote ${values.out}; reload nats-server (nats-server --signal reload) to apply\n`);
  for (const agent of generated.agents) {
    const credential =
      values.auth === 'nkey'
        ? `nkey_seed_file: /etc/offhook/nats.nk }   (copy ${agent.secretFile} there)`
        : `user: ${agent.user}, password: <contents of ${agent.secretFile}> }`;
    process.stdout.write(`  ${agent.host}: agent.yaml nats: { inbox_prefix: ${agent.inboxPrefix}, ${credential}\n`);
  }
}

/** Entry point of gen-users.mjs (and of `node --import tsx gen-users.ts`). */
export function runCli(argv: string[]): void {
  try {
    main(argv);
  } catch (err) {
    process.stderr.write(`gen-users: ${(err as Error).message}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(process.argv.slice(2));
