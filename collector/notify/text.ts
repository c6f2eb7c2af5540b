import type { Alert } from '../../shared/index.ts';
import type { NotificationBatch } from './types.ts';

const SEVERITY_RANK: Record<Alert['severity'], number> = { info: 0, warning: 1, critical: 2 };

/**
 * One line of plain text: C0/C1 controls (CR, LF, NUL, IRC colour/bold codes, escape sequences)
 * become spaces and runs of whitespace collapse, so alert text can never start a new header,
 * protocol line or terminal escape wherever it is written.
 */
export function oneLine(text: string, maxChars = 400): string {
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars - 1)}…` : flat;
}

/** The worst severity in a batch, for subjects and headlines. */
export function worstSeverity(alerts: readonly Alert[]): Alert['severity'] {
  return alerts.reduce<Alert['severity']>(
    (worst, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst] ? a.severity : worst),
    'info',
  );
}

export function alertUrl(externalUrl: string, alert: Alert): string {
  return `${externalUrl}/alerts/${alert.fingerprint}`;
}

const FALLBACK_WORDS: Record<string, string> = {
  budget_exhausted: 'the call budget is spent',
  line_down: 'the phone line is down',
  nobody_answered: 'nobody answered',
  quiet_hours: 'everyone is in quiet hours',
  per_number_limit: "the on-call number's call limit is reached",
  escalation_wait: 'the escalation is waiting before the next call',
  line_busy: 'the line is busy with other calls',
};

/** "not phoned (budget_exhausted: the call budget is spent)": why a fallback notification exists at all. */
export function fallbackNote(reason: string | undefined): string {
  const code = reason ?? 'unspecified';
  const words = FALLBACK_WORDS[code];
  return oneLine(`not phoned (${code}${words ? `: ${words}` : ''})`, 200);
}

/**
 * "[FIRING:2] critical web1: disk /var 97% full (+1 more)": the headline every text receiver starts with.
 * A fallback says first why nobody was phoned: "[FALLBACK:2] not phoned (budget_exhausted: ...) critical web1: ...".
 */
export function headline(batch: NotificationBatch): string {
  const first = batch.alerts[0]!;
  const label =
    batch.reason === 'fallback' ? 'FALLBACK' : batch.reason === 'repeat' ? 'REPEAT' : batch.status.toUpperCase();
  const why = batch.reason === 'fallback' ? ` ${fallbackNote(batch.fallbackReason)}` : '';
  const more = batch.alerts.length > 1 ? ` (+${batch.alerts.length - 1} more)` : '';
  const worst = worstSeverity(batch.alerts);
  return oneLine(`[${label}:${batch.alerts.length}]${why} ${worst} ${first.host}: ${first.summary}${more}`);
}

/** One line per alert, for mail bodies, tickets and chat. */
export function alertLine(alert: Alert): string {
  const value = alert.value === null ? '' : ` (value ${alert.value})`;
  return oneLine(
    `${alert.status.toUpperCase()} ${alert.severity} ${alert.host} ${alert.rule}: ${alert.summary}${value}`,
  );
}
