import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SelfSigned {
  key: Buffer;
  cert: Buffer;
}

/**
 * A fresh self-signed certificate made by the real openssl: RSA 2048, valid for `days`, for `commonName` (and the
 * subjectAltName entries given, e.g. "DNS:localhost,IP:127.0.0.1"). Its files are `<name>-key.pem`, `<name>-cert.pem`
 * in `dir`.
 */
export function selfSignedCertificate(
  dir: string,
  options: { name: string; days: number; commonName: string; altNames?: string },
): SelfSigned {
  const key = join(dir, `${options.name}-key.pem`);
  const cert = join(dir, `${options.name}-cert.pem`);
  const subject = ['-subj', `/CN=${options.commonName}`];
  const altNames = options.altNames ? ['-addext', `subjectAltName=${options.altNames}`] : [];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(options.days),
    ].concat(subject, altNames),
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}
