/// <reference lib="dom" />
import type { AlertState } from '../api-schema.ts';
import { html } from './html.ts';

/**
 * Severity is told three ways: a shape, the word and a colour from the Okabe-Ito palette (vermillion, yellow, blue),
 * which stays distinct under the common colour-vision deficiencies and in greyscale.
 */
const SHAPE = { critical: '◆', warning: '▲', info: '●' } as const;

export function Severity(props: { severity: 'critical' | 'warning' | 'info' }) {
  const shape = html`<span aria-hidden="true">${SHAPE[props.severity]}</span>`;
  return html`<span class=${`sev ${props.severity}`}>${shape} ${props.severity}</span>`;
}

const STATE_TEXT: Record<AlertState, string> = {
  firing: 'firing',
  quiet: 'not announced',
  acknowledged: 'acked',
  silenced: 'silenced',
  inhibited: 'inhibited',
  flapping: 'flapping',
  resolved: 'resolved',
};

/** Hover text where the badge's word is not the whole story. */
const STATE_TITLE: Partial<Record<AlertState, string>> = {
  quiet: 'firing, not announced: it came from a replay of history (no notification, no call)',
};

export function StateBadge(props: { state: AlertState }) {
  const title = STATE_TITLE[props.state] ?? props.state;
  return html`<span class=${`state ${props.state}`} title=${title}>${STATE_TEXT[props.state]}</span>`;
}
