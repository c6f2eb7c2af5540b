import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCertificates } from './tls.ts';

export const NATS_DEPLOY_DIR = fileURLToPath(new URL('../../../deploy/nats/', import.meta.url));

/**
 * Copies a shipped config into `dir` changing only what a test machine cannot have: the TLS file paths, the
 * JetStream store, the monitoring port (ephemeral) and, for the cluster, the route URLs. Everything else
 * (accounts, permissions, TLS settings, limits) is exactly what an operator installs.
 */
export function adaptConfig(
  dir: string,
  file: string,
  options: {
    certs: TestCertificates;
    storeDir: string;
    /** Route URLs of the test cluster; each node's own route listener is set with --cluster. */
    routes?: string[];
  },
): string {
  let text = readFileSync(join(NATS_DEPLOY_DIR, file), 'utf8');
  const replace = (pattern: RegExp, value: string): void => {
    if (!pattern.test(text)) throw new Error(`${file}: expected to find ${pattern} to adapt for the test`);
    text = text.replace(pattern, value);
  };
  replace(/"\/etc\/nats\/tls\/(server|route)\.crt"/g, JSON.stringify(options.certs.cert));
  replace(/"\/etc\/nats\/tls\/(server|route)\.key"/g, JSON.stringify(options.certs.key));
  replace(/"\/etc\/nats\/tls\/ca\.crt"/g, JSON.stringify(options.certs.ca));
  replace(/"\/var\/lib\/nats\/jetstream"/, JSON.stringify(options.storeDir));
  replace(/^http: .*$/m, 'http: "127.0.0.1:-1"');
  if (options.routes) {
    replace(/routes: \[[^\]]*\]/, `routes: [${options.routes.map((r) => JSON.stringify(r)).join(', ')}]`);
  }
  const target = join(dir, file);
  writeFileSync(target, text);
  copyFileSync(join(NATS_DEPLOY_DIR, 'accounts.conf'), join(dir, 'accounts.conf'));
  return target;
}
