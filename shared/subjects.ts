import { FINGERPRINT_RE, HOST_TOKEN_RE, type Severity } from './schemas/common.ts';

export const DEFAULT_PREFIX = 'offhook';
export const EVENT_KINDS = ['resource', 'check', 'log'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export class InvalidHostError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid host name ${JSON.stringify(input.slice(0, 80))}: ${reason}`);
  }
}

/**
 * Maps a host name to the NATS token used in subjects: lower case, dots become "_".
 * Anything else outside [A-Za-z0-9_-] is refused rather than rewritten, so two different
 * hosts can never collide on one token and no wildcard or separator reaches a subject.
 */
export function hostToken(hostName: string): string {
  if (typeof hostName !== 'string' || hostName.length === 0) throw new InvalidHostError(String(hostName), 'empty');
  const token = hostName.trim().toLowerCase().replace(/\.+$/, '').replace(/\./g, '_');
  if (!HOST_TOKEN_RE.test(token)) {
    throw new InvalidHostError(hostName, 'only letters, digits, "-", "_" and "." are allowed (at most 128 characters)');
  }
  return token;
}

export function isHostToken(token: string): boolean {
  return HOST_TOKEN_RE.test(token);
}

export type ParsedSubject =
  | { type: 'event'; host: string; kind: EventKind }
  | { type: 'heartbeat'; host: string }
  | { type: 'alert'; severity: Severity; host: string }
  | { type: 'ack'; fingerprint: string }
  | { type: 'call'; fingerprint: string }
  | { type: 'fallback'; host: string }
  | { type: 'gateway'; host: string }
  | { type: 'collector_heartbeat'; member: string }
  | { type: 'gateway_heartbeat'; host: string };

/** Subject builders and parser for one prefix; the full list of subjects is in README.md, Architecture. */
export class Subjects {
  readonly root: string;
  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix))
      throw new Error(`subject prefix ${JSON.stringify(prefix)} must be one NATS token [A-Za-z0-9_-]+`);
    this.root = `${prefix}.v1`;
  }
  event(host: string, kind: EventKind): string {
    return `${this.root}.events.${checkHost(host)}.${kind}`;
  }
  heartbeat(host: string): string {
    return `${this.root}.heartbeat.${checkHost(host)}`;
  }
  alert(severity: Severity, host: string): string {
    return `${this.root}.alerts.${severity}.${checkHost(host)}`;
  }
  ack(fingerprint: string): string {
    return `${this.root}.ack.${checkFingerprint(fingerprint)}`;
  }
  call(fingerprint: string): string {
    return `${this.root}.calls.${checkFingerprint(fingerprint)}`;
  }
  fallback(gatewayHost: string): string {
    return `${this.root}.fallback.${checkHost(gatewayHost)}`;
  }
  /** Events about the telephony gateway itself (GatewayEvent: budget exhausted, line down). */
  gatewayEvent(gatewayHost: string): string {
    return `${this.root}.gateway.${checkHost(gatewayHost)}`;
  }
  /** A collector member's liveness (core NATS), watched by the gateway's watchdog. */
  collectorHeartbeat(member: string): string {
    return `${this.root}.collector.heartbeat.${checkHost(member)}`;
  }
  /** The gateway's liveness (core NATS), watched by the collector; not matched by allGatewayEvents (one token more). */
  gatewayHeartbeat(gatewayHost: string): string {
    return `${this.root}.gateway.heartbeat.${checkHost(gatewayHost)}`;
  }
  /** Request subject `offhook status` asks; every running collector or gateway answers. */
  statusRequest(component: 'collector' | 'gateway'): string {
    return `${this.root}.status.${component}`;
  }
  get allEvents(): string {
    return `${this.root}.events.>`;
  }
  get allHeartbeats(): string {
    return `${this.root}.heartbeat.*`;
  }
  get allAlerts(): string {
    return `${this.root}.alerts.>`;
  }
  get allAcks(): string {
    return `${this.root}.ack.*`;
  }
  get allCalls(): string {
    return `${this.root}.calls.*`;
  }
  get allFallbacks(): string {
    return `${this.root}.fallback.*`;
  }
  get allGatewayEvents(): string {
    return `${this.root}.gateway.*`;
  }
  get allCollectorHeartbeats(): string {
    return `${this.root}.collector.heartbeat.*`;
  }
  get allGatewayHeartbeats(): string {
    return `${this.root}.gateway.heartbeat.*`;
  }

  /** Parses a subject of this prefix; null when it is not one of ours or a token is invalid. */
  parse(subject: string): ParsedSubject | null {
    const parts = subject.split('.');
    if (parts[0] !== this.prefix || parts[1] !== 'v1') return null;
    const [, , family, a, b, ...rest] = parts;
    if (rest.length > 0) return null;
    switch (family) {
      case 'events':
        if (a && b && isHostToken(a) && (EVENT_KINDS as readonly string[]).includes(b))
          return { type: 'event', host: a, kind: b as EventKind };
        return null;
      case 'heartbeat':
        return a && b === undefined && isHostToken(a) ? { type: 'heartbeat', host: a } : null;
      case 'alerts':
        if (a && b && ['info', 'warning', 'critical'].includes(a) && isHostToken(b))
          return { type: 'alert', severity: a as Severity, host: b };
        return null;
      case 'ack':
        return a && b === undefined && FINGERPRINT_RE.test(a) ? { type: 'ack', fingerprint: a } : null;
      case 'calls':
        return a && b === undefined && FINGERPRINT_RE.test(a) ? { type: 'call', fingerprint: a } : null;
      case 'fallback':
        return a && b === undefined && isHostToken(a) ? { type: 'fallback', host: a } : null;
      case 'gateway':
        if (a === 'heartbeat' && b !== undefined) return isHostToken(b) ? { type: 'gateway_heartbeat', host: b } : null;
        return a && b === undefined && isHostToken(a) ? { type: 'gateway', host: a } : null;
      case 'collector':
        return a === 'heartbeat' && b && isHostToken(b) ? { type: 'collector_heartbeat', member: b } : null;
      default:
        return null;
    }
  }
}

function checkHost(host: string): string {
  if (!isHostToken(host)) throw new InvalidHostError(host, 'not a host token; map host names with hostToken() first');
  return host;
}
function checkFingerprint(fp: string): string {
  if (!FINGERPRINT_RE.test(fp))
    throw new Error(`invalid fingerprint ${JSON.stringify(fp.slice(0, 40))}: expected 16 hex digits`);
  return fp;
}
