import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HttpAuth } from './config.ts';

/** Credentials with files already read: what a request is checked against, or what we send. */
export type ResolvedAuth = { kind: 'bearer'; token: string } | { kind: 'basic'; username: string; password: string };

function readSecret(file: string, field: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(
      `alertmanager.${field}: ` +
        `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
        `create it with the secret on one line`,
    );
  }
  const secret = text.trim();
  if (secret.length < 8)
    throw new Error(`alertmanager.${field}: ${file} holds fewer than 8 characters; put a longer secret in it`);
  return secret;
}

/**
 * Reads secret files once at start, so a missing file stops the gateway with a clear message instead of failing every
 * request.
 */
export function resolveAuth(auth: HttpAuth, section: string): ResolvedAuth {
  if (auth.bearer_token !== undefined) return { kind: 'bearer', token: auth.bearer_token };
  if (auth.bearer_token_file !== undefined)
    return { kind: 'bearer', token: readSecret(auth.bearer_token_file, `${section}.bearer_token_file`) };
  const basic = auth.basic!;
  return {
    kind: 'basic',
    username: basic.username,
    password: basic.password ?? readSecret(basic.password_file!, `${section}.basic.password_file`),
  };
}

export function authorizationHeader(auth: ResolvedAuth): string {
  return auth.kind === 'bearer'
    ? `Bearer ${auth.token}`
    : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
}

/** Compares digests, so neither the secret's length nor its content leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when the request's Authorization header carries the configured credentials. */
export function isAuthorized(header: string | undefined, auth: ResolvedAuth): boolean {
  if (!header) return false;
  const expected = authorizationHeader(auth);
  const scheme = expected.slice(0, expected.indexOf(' '));
  // The scheme is case-insensitive (RFC 9110); the credentials are not.
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return false;
  return sameSecret(header.slice(space + 1).trim(), expected.slice(scheme.length + 1));
}

/** The challenge a 401 carries, naming the scheme Alertmanager's http_config must use. */
export function challenge(auth: ResolvedAuth): string {
  return auth.kind === 'bearer' ? 'Bearer realm="offhook"' : 'Basic realm="offhook", charset="UTF-8"';
}
