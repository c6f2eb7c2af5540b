import * as z from 'zod';
import type { CheckStatus, MetricPoint } from '../../../shared/index.ts';
import { certificateExpiry } from './net.ts';
import type { TLSSocket } from 'node:tls';

/** Config fields shared by every probe that speaks TLS. */
export const TlsPolicy = {
  /** Accept self-signed or otherwise unverifiable certificates (expiry is still reported). */
  insecure: z.boolean().default(false),
  cert_warn_days: z.number().int().nonnegative().default(21),
  cert_crit_days: z.number().int().nonnegative().default(7),
};

export interface CertVerdict {
  status: CheckStatus;
  note: string;
  metrics: MetricPoint[];
}

/** Blackbox-exporter metric names, so dashboards built for it read ours. */
export function judgeCertificate(
  socket: TLSSocket,
  policy: { cert_warn_days: number; cert_crit_days: number },
): CertVerdict {
  const expiry = certificateExpiry(socket);
  if (!expiry) return { status: 'unknown', note: 'no peer certificate', metrics: [] };
  const status: CheckStatus =
    expiry.daysLeft < policy.cert_crit_days ? 'critical' : expiry.daysLeft < policy.cert_warn_days ? 'warning' : 'ok';
  return {
    status,
    note: `certificate${expiry.subject ? ` ${expiry.subject}` : ''} expires in ${expiry.daysLeft} days`,
    metrics: [
      { name: 'probe_ssl_earliest_cert_expiry', type: 'gauge', value: expiry.notAfterSec },
      { name: 'probe_ssl_cert_days_left', type: 'gauge', value: expiry.daysLeft },
    ],
  };
}

const RANK: Record<CheckStatus, number> = { ok: 0, unknown: 1, warning: 2, critical: 3 };
export function worst(a: CheckStatus, b: CheckStatus): CheckStatus {
  return RANK[a] >= RANK[b] ? a : b;
}
