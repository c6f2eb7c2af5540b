import type { Alert } from '../../shared/index.ts';

const NUMBER_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
];

/**
 * Makes untrusted text safe to hand to the speech engine: no markup or SSML (espeak-ng would
 * honour it with -m, and a summary is producer-controlled), no control characters, symbols
 * spoken as words, and a hard length cap so one alert cannot monopolise the line.
 */
export function sanitizeSpeech(text: string, maxChars: number): string {
  const clean = text
    .normalize('NFKC')
    .replace(/<[^>]*>?/g, ' ') // tags, including an unterminated one at the end
    .replace(/&[#a-zA-Z0-9]+;?/g, ' ') // entities
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/gu, ' ')
    .replace(/%/g, ' percent ')
    .replace(/[<>{}[\]\\|^`~$]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length <= maxChars) return clean;
  const cut = clean.slice(0, maxChars);
  const lastSpace = cut.lastIndexOf(' ');
  return (lastSpace > maxChars - 40 ? cut.slice(0, lastSpace) : cut).trim();
}

export function countWord(n: number): string {
  return n < NUMBER_WORDS.length ? NUMBER_WORDS[n]! : String(n);
}

/** How one alert is read out: "web1: HTTP down" (the host, then the collector's sentence). */
export function describeAlert(alert: Alert): string {
  const host = alert.host.replace(/_/g, ' ');
  const summary = alert.summary.toLowerCase().startsWith(host.toLowerCase())
    ? alert.summary
    : `${host}, ${alert.summary}`;
  return alert.severity === 'critical' ? `critical, ${summary}` : summary;
}

/**
 * The spoken message for a call about these alerts (already ordered worst first): the count, then
 * the worst few by name, then how many more. "Three alerts. critical, web1, HTTP down. web1, disk 95 percent. ..."
 */
export function callMessage(alerts: readonly Alert[], options: { maxAlertsSpoken: number; maxChars: number }): string {
  const named = alerts.slice(0, options.maxAlertsSpoken).map((a) => sanitizeSpeech(describeAlert(a), 200));
  const rest = alerts.length - named.length;
  const head =
    alerts.length === 1
      ? 'This is offhook with one alert.'
      : `This is offhook with ${countWord(alerts.length)} alerts.`;
  const tail = rest > 0 ? ` And ${countWord(rest)} more.` : '';
  return sanitizeSpeech(`${head} ${named.join('. ')}.${tail}`, options.maxChars);
}

export const MENU_TEXT =
  'Press 1 to acknowledge. Press 2 to pass this to the next person. Press 3 to hear it again. Press 0 for help.';
/** The menu of a call about `count` alerts: a grouped call says how many pressing 1 acknowledges. */
export function menuText(count: number): string {
  if (count <= 1) return MENU_TEXT;
  return MENU_TEXT.replace('Press 1 to acknowledge.', `Press 1 to acknowledge all ${countWord(count)} alerts.`);
}
export const HELP_TEXT =
  'Pressing 1 acknowledges every alert in this call and stops the calls. Pressing 2 calls the next ' +
  'person on the list. Pressing 3 or star repeats the message.';
export const ACKED_TEXT = 'Acknowledged. Thank you. Goodbye.';
export const PASSED_TEXT = 'Passing on to the next person. Goodbye.';
export const WRONG_KEY_TEXT = 'That key does nothing here.';
export const GOODBYE_TEXT = 'Goodbye.';
export const PIN_TEXT = 'Please enter your PIN followed by the hash key.';
export const WRONG_PIN_TEXT = 'That PIN is not right.';
export const NO_ALERTS_TEXT = 'There are no alerts waiting. Goodbye.';
export const INBOUND_MENU_TEXT = 'Press 1 to acknowledge this alert, or any other key for the next one.';
export const VOICE_NOTE_TEXT = 'Leave a short note after the tone and press hash when done, or press hash now to skip.';
export const TEST_CALL_TEXT = 'This is a test call from offhook. The telephone line works. Press 1 to confirm.';

export function inboundIntro(count: number): string {
  return count === 1 ? 'There is one alert.' : `There are ${countWord(count)} alerts.`;
}
