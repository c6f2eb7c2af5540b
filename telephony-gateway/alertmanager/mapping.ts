import {
  Alert,
  type AlertmanagerAlert,
  SCHEMA_VERSION,
  hostToken,
  sha256Hex,
  type Severity,
} from '../../shared/index.ts';
import { DEFAULT_SEVERITY_MAP, type AlertmanagerBridgeConfig } from './config.ts';

const MAX_SUMMARY_CHARS = 300;

type MappingConfig = Pick<
  AlertmanagerBridgeConfig,
  'host_labels' | 'default_host' | 'severity_label' | 'severity_map' | 'default_severity'
>;

/**
 * Our fingerprint for an Alertmanager alert: a hash of its label set (what Alertmanager's own
 * fingerprint hashes too), in a namespace of its own so it can never collide with, and so never
 * resolve, an offhook alert.
 */
export function alertmanagerFingerprint(labels: Record<string, string>): string {
  const canonical = JSON.stringify([
    'alertmanager',
    Object.keys(labels)
      .sort()
      .map((name) => [name, labels[name]]),
  ]);
  return sha256Hex(canonical).slice(0, 16);
}

/** `db1.example.com:9100`, `https://db1.example.com/health` or `[::1]:9100` → the bare host name. */
function hostPart(value: string): string {
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    try {
      return new URL(text).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return text;
    }
  }
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  return /^[^:]+:\d+$/.test(text) ? text.slice(0, text.lastIndexOf(':')) : text;
}

/** Host token for an alert: the first usable host label, else the configured default; never throws. */
export function hostFor(labels: Record<string, string>, config: MappingConfig): string {
  for (const name of config.host_labels) {
    const value = Object.hasOwn(labels, name) ? labels[name] : undefined;
    if (!value) continue;
    const host = hostPart(value);
    try {
      return hostToken(host);
    } catch {
      // Characters a subject cannot carry (IPv6 colons, spaces) become "_" rather than losing the alert.
      const token = host
        .toLowerCase()
        .replace(/[^a-z0-9_.-]/g, '_')
        .replace(/\./g, '_')
        .replace(/_+/g, '_')
        .replace(/^_|_$/g, '')
        .slice(0, 128);
      if (token) return token;
    }
  }
  try {
    return hostToken(config.default_host);
  } catch {
    return 'alertmanager';
  }
}

export function severityFor(labels: Record<string, string>, config: MappingConfig): Severity {
  const value = Object.hasOwn(labels, config.severity_label) ? labels[config.severity_label]!.trim().toLowerCase() : '';
  if (!value) return config.default_severity;
  if (Object.hasOwn(config.severity_map, value)) return config.severity_map[value]!;
  return Object.hasOwn(DEFAULT_SEVERITY_MAP, value) ? DEFAULT_SEVERITY_MAP[value]! : config.default_severity;
}

/** Text fit to be spoken: no control characters or markup noise, one line, capped at a sentence or two. */
export function speakable(text: string, maxChars = MAX_SUMMARY_CHARS): string {
  const clean = text
    .replace(/<[^>]{0,200}>/g, ' ')
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length <= maxChars) return clean;
  const cut = clean.slice(0, maxChars - 1);
  const lastSpace = cut.lastIndexOf(' ');
  return `${lastSpace > maxChars / 2 ? cut.slice(0, lastSpace) : cut}…`;
}

function annotation(annotations: Record<string, string>, name: string): string {
  return Object.hasOwn(annotations, name) ? speakable(annotations[name]!) : '';
}

/**
 * The deterministic message id of one notification of one alert: a retry carries the same id, so JetStream stores it
 * once.
 */
export function notificationId(fingerprint: string, status: string, startsAt: number): string {
  return `am-${fingerprint}-${status}-${startsAt}`;
}

/**
 * One Alertmanager alert as the offhook `Alert` the collector would publish: the same queue entry,
 * grouping, escalation, budget and acknowledgement. The firing's `startsAt` is its generation, so a
 * re-fire (new startsAt) is a new problem and an acknowledgement covers only the firing it was given for.
 */
export function toOffhookAlert(source: AlertmanagerAlert, config: MappingConfig, now: number): Alert {
  const labels = source.labels;
  const fingerprint = alertmanagerFingerprint(labels);
  const host = hostFor(labels, config);
  const rule =
    speakable(Object.hasOwn(labels, 'alertname') && labels.alertname ? labels.alertname : 'alertmanager', 200) ||
    'alertmanager';
  const described =
    annotation(source.annotations, 'summary') ||
    annotation(source.annotations, 'description') ||
    annotation(source.annotations, 'message');
  const summary = described || speakable(`${rule} on ${host.replace(/_/g, ' ')}`);
  // startsAt is required by the schema; a zero or pre-1970 time would not make a positive generation.
  const startsAt = Math.max(1, source.startsAt);
  const resolved = source.status === 'resolved';
  return Alert.parse({
    v: SCHEMA_VERSION,
    id: notificationId(fingerprint, source.status, startsAt),
    host,
    ts: now,
    fingerprint,
    status: source.status,
    severity: severityFor(labels, config),
    rule,
    ruleKind: 'external',
    labels,
    summary,
    value: null,
    startsAt,
    endsAt: resolved ? Math.max(startsAt, source.endsAt) : 0,
    generation: startsAt,
    inhibited: false,
    acknowledged: false,
  });
}
