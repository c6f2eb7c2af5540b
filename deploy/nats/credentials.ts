import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import type { UserAuth } from './users-conf.ts';

export type AuthMode = 'nkey' | 'password';

/**
 * Per-user secrets kept in one directory and created only when absent, so re-running the generator for a new host
 * leaves every existing agent's credentials working. `<user>.nk` holds an nkey seed, `<user>.password` a password.
 */
export class CredentialStore {
  constructor(
    readonly dir: string,
    readonly mode: AuthMode,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  path(user: string): string {
    return join(this.dir, `${user}.${this.mode === 'nkey' ? 'nk' : 'password'}`);
  }

  authFor(user: string): UserAuth {
    const file = this.path(user);
    if (!existsSync(file)) writeFileSync(file, `${this.newSecret()}\n`, { mode: 0o600 });
    const secret = readFileSync(file, 'utf8').trim();
    if (this.mode === 'password') return { password: secret };
    try {
      return { nkey: nkeys.fromSeed(new TextEncoder().encode(secret)).getPublicKey() };
    } catch (err) {
      throw new Error(
        `${file}: not a valid nkey user seed (${(err as Error).message}); delete it to have a new one generated`,
      );
    }
  }

  private newSecret(): string {
    if (this.mode === 'password') return randomBytes(24).toString('base64url');
    return new TextDecoder().decode(nkeys.createUser().getSeed());
  }
}
