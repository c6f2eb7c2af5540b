import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>`: node:crypto's scrypt, so no native dependency. N = 2^15, r =
 * 8, p = 1 costs about 32 MiB and 50-100 ms per check: slow enough for guessing, cheap for a few logins.
 */
export const PASSWORD_HASH_RE =
  /^scrypt\$(1[0-9]|20)\$([1-9][0-9]?)\$([1-9])\$[A-Za-z0-9+/]{22,}={0,2}\$[A-Za-z0-9+/]{43,}={0,2}$/;

const KEY_BYTES = 32;
const LOG_N = 15;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** logN;
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, LOG_N, 8, 1);
  return `scrypt$${LOG_N}$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = PASSWORD_HASH_RE.exec(encoded);
  if (!match) return false;
  const [, , , , saltText, hashText] = encoded.split('$');
  const expected = Buffer.from(hashText!, 'base64');
  const key = await derive(
    password,
    Buffer.from(saltText!, 'base64'),
    Number(match[1]),
    Number(match[2]),
    Number(match[3]),
  );
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Spends the same time as a real check, so an unknown user name cannot be told from a wrong password. */
const zeros = (bytes: number): string => Buffer.alloc(bytes).toString('base64');
const DUMMY = `scrypt$${LOG_N}$8$1$${zeros(16)}$${zeros(KEY_BYTES)}`;
export async function verifyNobody(password: string): Promise<false> {
  await verifyPassword(password, DUMMY);
  return false;
}
