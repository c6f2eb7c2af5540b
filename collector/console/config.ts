import * as z from 'zod';
import { Duration, refineUniqueNames } from '../../shared/index.ts';
import { PASSWORD_HASH_RE } from './password.ts';

/** A person who may act from the web console (acknowledge, silence). */
export const ConsoleUser = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, {
      error: 'expected a user name of 1-64 letters, digits, ".", "_", "@" or "-"',
    }),
    password_hash: z.string().regex(PASSWORD_HASH_RE, {
      error: 'expected a hash printed by `offhook console hash-password` (scrypt$...)',
    }),
  })
  .strict();

/**
 * collector.yaml `console:` (collector/README.md, Web console). Read-only to anyone who reaches it; acting needs a
 * login.
 */
export const ConsoleConfig = z
  .object({
    enabled: z.boolean().default(true),
    users: z.array(ConsoleUser).max(1000).default([]),
    /**
     * Opt-in: a reverse proxy that authenticated the person puts their name in this header (e.g. X-Remote-User). Only
     * set it when the collector is reachable through that proxy alone, which must overwrite the header.
     */
    proxy_user_header: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, { error: 'expected an HTTP header name like X-Remote-User' })
      .nullable()
      .default(null),
    /** `auto`: Secure when the request came over TLS or a loopback proxy says X-Forwarded-Proto: https. */
    secure_cookies: z.enum(['auto', 'always', 'never']).default('auto'),
    /** A session ends this long after login. */
    session_ttl: Duration.default(12 * 3_600_000),
  })
  .strict()
  .superRefine((config, ctx) => {
    refineUniqueNames(
      ctx,
      'users',
      config.users.map((user) => user.name),
      'user name',
    );
  });
export type ConsoleConfig = z.infer<typeof ConsoleConfig>;

export const DEFAULT_CONSOLE: ConsoleConfig = {
  enabled: true,
  users: [],
  proxy_user_header: null,
  secure_cookies: 'auto',
  session_ttl: 12 * 3_600_000,
};
