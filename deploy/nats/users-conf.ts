import { agentPermissions, agentUserName, ROLES, rolePermissions, type Permissions } from './permissions.ts';
import type { Subjects } from '../../shared/index.ts';

/** How a user proves who it is: an nkey public key (the server never sees a secret) or a password. */
export type UserAuth = { nkey: string } | { password: string };

export interface UserEntry {
  /** collector, gateway, operator, admin, agent-<host> */
  name: string;
  auth: UserAuth;
  permissions: Permissions;
}

/** Every user the OFFHOOK account needs: the four roles and one agent per host. */
export function userEntries(subjects: Subjects, hosts: string[], authFor: (name: string) => UserAuth): UserEntry[] {
  return [
    ...ROLES.map((role) => ({ name: role, auth: authFor(role), permissions: rolePermissions(subjects, role) })),
    ...hosts.map((host) => {
      const name = agentUserName(host);
      return { name, auth: authFor(name), permissions: agentPermissions(subjects, host) };
    }),
  ];
}

// Quoted always: an unquoted $JS... would be read by nats-server as a variable reference.
const quote = (text: string): string => JSON.stringify(text);

function renderList(key: string, subjects: string[]): string[] {
  return [
    `      ${key}: { allow: [`,
    ...subjects.map((s, i) => `        ${quote(s)}${i < subjects.length - 1 ? ',' : ''}`),
    '      ] }',
  ];
}

function renderUser(entry: UserEntry, last: boolean): string[] {
  const auth =
    'nkey' in entry.auth
      ? [`    nkey: ${quote(entry.auth.nkey)}`]
      : [`    user: ${quote(entry.name)}`, `    password: ${quote(entry.auth.password)}`];
  return [
    `  # ${entry.name}`,
    '  {',
    ...auth,
    '    permissions: {',
    ...renderList('publish', entry.permissions.publish),
    ...renderList('subscribe', entry.permissions.subscribe),
    ...(entry.permissions.allowResponses ? ['      allow_responses: true'] : []),
    '    }',
    `  }${last ? '' : ','}`,
  ];
}

/** The `users = [...]` block included into the OFFHOOK account by deploy/nats/accounts.conf. */
export function renderUsersConf(entries: UserEntry[], header: string[]): string {
  return [
    ...header.map((line) => `# ${line}`.trimEnd()),
    'users = [',
    ...entries.flatMap((entry, i) => renderUser(entry, i === entries.length - 1)),
    ']',
    '',
  ].join('\n');
}
