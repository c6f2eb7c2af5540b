import { fingerprint, newId, SCHEMA_VERSION, WATCHDOG_LABEL, type Alert } from '../../shared/index.ts';

export const BLIND_RULE = 'watchdog_blind';
const BLIND_LABELS = { [WATCHDOG_LABEL]: 'blind' };

/** One fingerprint per gateway: every watchdog incident of this gateway is a generation of it. */
export function blindFingerprint(gatewayHost: string): string {
  return fingerprint(gatewayHost, BLIND_RULE, BLIND_LABELS);
}

/** The alert the watchdog queues (never published to ALERTS): what the on-call person hears about. */
export function blindAlert(
  gatewayHost: string,
  generation: number,
  since: number,
  summary: string,
  now: number,
): Alert {
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host: gatewayHost,
    ts: now,
    fingerprint: blindFingerprint(gatewayHost),
    status: 'firing',
    severity: 'critical',
    rule: BLIND_RULE,
    ruleKind: 'watchdog',
    labels: { ...BLIND_LABELS },
    summary: summary.slice(0, 500),
    value: null,
    startsAt: since,
    endsAt: 0,
    generation,
    inhibited: false,
    acknowledged: false,
  };
}
