import { fingerprint, newId, SCHEMA_VERSION, type Alert, type Severity } from '../../shared/index.ts';
import type { InboundScript } from '../../native/line.ts';
import { GatewayConfig, type GatewayConfigInput } from '../../telephony-gateway/config.ts';

/** A valid firing alert as the collector would publish it. */
export function makeAlert(
  overrides: Partial<Alert> & { host?: string; rule?: string; severity?: Severity } = {},
): Alert {
  const host = overrides.host ?? 'web1';
  const rule = overrides.rule ?? 'http_down';
  const labels = overrides.labels ?? {};
  return {
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    fingerprint: fingerprint(host, rule, labels),
    status: 'firing',
    severity: 'critical',
    rule,
    ruleKind: 'check',
    labels,
    summary: 'HTTP down',
    value: null,
    startsAt: Date.now(),
    endsAt: 0,
    generation: 1,
    inhibited: false,
    acknowledged: false,
    ...overrides,
  };
}

export function resolvedOf(alert: Alert): Alert {
  return { ...alert, id: newId(), status: 'resolved', endsAt: Date.now(), ts: Date.now() };
}

export function gatewayConfig(input: Partial<GatewayConfigInput> = {}): GatewayConfig {
  return GatewayConfig.parse({
    people: [
      { name: 'alice', number: '100', pin: '1234' },
      { name: 'bob', number: '200', pin: '4321' },
    ],
    ...input,
  });
}

/**
 * A caller (bob, PIN 4321 in gatewayConfig) calls in, acknowledges the first alert with 1 and leaves a 9 s voice note
 * ended by #.
 */
export function voiceNoteCall(callerId = '200', pin = '4321'): InboundScript {
  return {
    callerId,
    then: [
      { waitForPrompt: 'enter-pin' },
      { press: `${pin}#` },
      { waitForPrompt: 'inbound-menu' },
      { press: '1' },
      { waitForPrompt: 'voice-note' },
      { wait: 9000 },
      { press: '#' },
    ],
  };
}
