/// <reference lib="dom" />
import type { ConsoleAlert, ConsoleState, ConsoleVoiceNote } from '../api-schema.ts';
import { ago, duration } from './format.ts';
import { html } from './html.ts';

type Gateway = ConsoleState['gateways'][number];
type Call = ConsoleState['calls'][number];

const LINE_TEXT: Record<string, string> = {
  idle: 'idle',
  ringing: 'ringing',
  dialling: 'dialling',
  connected: 'connected',
  speaking: 'speaking',
  waiting_for_key: 'waiting for a key',
  recording: 'recording a voice note',
};

function budgetText(limit: string, left: number | null, currency: string | undefined): string {
  if (left === null) return `${limit.replace(/_/g, ' ')}: no limit`;
  const amount = limit.startsWith('cost') ? `${left.toFixed(2)}${currency ? ` ${currency}` : ''}` : String(left);
  return `${limit.replace(/_/g, ' ')}: ${amount} left`;
}

function nextText(q: Gateway['queue'][number], now: number): string {
  const e = q.escalation;
  if (!e) return `round ${q.round + 1}`;
  const when = e.nextAt <= now ? 'now' : `in ${duration(e.nextAt - now)}`;
  return `round ${q.round + 1} · next: ${e.next ?? 'nobody'} ${when}`;
}

function QueueEntry(props: { q: Gateway['queue'][number]; alert?: ConsoleAlert; calls: Call[]; now: number }) {
  const { q } = props;
  const tried = props.calls.filter((c) => c.fingerprints.includes(q.fingerprint) && c.direction === 'outbound');
  return html`<li data-fingerprint=${q.fingerprint} class=${`sev-${q.severity}`}>
    <span class="what">${props.alert?.summary ?? `${q.host} ${q.rule}`}</span>
    <span class="step">${nextText(q, props.now)}</span>
    ${
      tried.length > 0
        ? html`<ol class="steps">
            ${[...tried]
              .reverse()
              .map(
                (c) => html`<li>${c.person ?? c.number}: ${c.outcome.replace(/_/g, ' ')}, ${ago(props.now, c.ts)}</li>`,
              )}
          </ol>`
        : null
    }
  </li>`;
}

function GatewayCard(props: { gateway: Gateway; alerts: Map<string, ConsoleAlert>; calls: Call[]; now: number }) {
  const g = props.gateway;
  const state = !g.line.up ? 'down' : (g.line.state ?? (g.line.busy ? 'connected' : 'idle'));
  const call = g.line.call;
  const since = call ? duration(props.now - call.since) : '';
  const blind = g.watchdog?.blind ?? [];
  return html`<article class="gateway" data-gateway=${g.gatewayHost}>
    <h3>${g.gatewayHost} <small>${g.line.driver} line</small></h3>
    <p class=${`line line-${state}`} data-line-state=${state}>
      <strong>${state === 'down' ? 'line down' : (LINE_TEXT[state] ?? state)}</strong>
      ${call ? html` · ${call.direction === 'inbound' ? 'from' : 'to'} ${call.number}, ${since}` : null}
      ${blind.length > 0 ? html` · <span class="blind">blind: ${blind.join(', ')}</span>` : null}
    </p>
    <h4>Waiting to be phoned (${g.queue.length})</h4>
    ${g.queue.length === 0 ? html`<p class="empty">Nobody is waiting to be phoned.</p>` : null}
    <ol class="queue">
      ${g.queue.map(
        (q) => html`<${QueueEntry} key=${q.fingerprint} q=${q} alert=${props.alerts.get(q.fingerprint)}
          calls=${props.calls} now=${props.now} />`,
      )}
    </ol>
    <h4>Budget</h4>
    <ul class="budget">${Object.entries(g.budget).map(([k, v]) => html`<li>${budgetText(k, v, g.currency)}</li>`)}</ul>
  </article>`;
}

function Spoken(props: { lines: string[] | undefined }) {
  if (!props.lines || props.lines.length === 0) return null;
  return html`<details class="spoken"><summary>said (${props.lines.length})</summary>
    <ol>${props.lines.map((line) => html`<li>${line}</li>`)}</ol></details>`;
}

export function CallsTable(props: { calls: Call[]; now: number }) {
  if (props.calls.length === 0) return html`<p class="empty">No calls recorded.</p>`;
  return html`<table class="calls">
    <thead><tr>
      <th>when</th><th>who</th><th>outcome</th><th>keys</th><th>length</th><th>cost</th><th>said</th>
    </tr></thead>
    <tbody>${props.calls.map(
      (c) => html`<tr key=${c.callId} data-call=${c.callId} data-outcome=${c.outcome}>
        <td data-label="when">${ago(props.now, c.ts)}</td>
        <td data-label="who">${c.direction === 'inbound' ? '⇠ from ' : '⇢ '}${c.person ?? ''} ${c.number}</td>
        <td data-label="outcome" class=${`outcome ${c.outcome}`}>${c.outcome.replace(/_/g, ' ')}</td>
        <td data-label="keys">${c.digits || '-'}</td>
        <td data-label="length">${duration(c.durationMs)}</td>
        <td data-label="cost">${c.estimatedCost.toFixed(2)}${c.currency ? ` ${c.currency}` : ''}</td>
        <td data-label="said"><${Spoken} lines=${c.spoken} /></td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function VoiceNotes(props: { notes: ConsoleVoiceNote[]; alerts: Map<string, ConsoleAlert>; now: number }) {
  if (props.notes.length === 0) return html`<p class="empty">No voice notes.</p>`;
  return html`<ul class="voice-notes">
    ${props.notes.map(
      (n) => html`<li key=${n.file} data-voice-note=${n.file}>
        <span>${n.by}, ${ago(props.now, n.at)}: ${props.alerts.get(n.fingerprint)?.summary ?? n.fingerprint}</span>
        <audio controls preload="none" src=${`/console/api/voice-notes/${encodeURIComponent(n.file)}`}></audio>
      </li>`,
    )}
  </ul>`;
}

export function PhonePanel(props: { state: ConsoleState; now: number }) {
  const alerts = new Map(props.state.alerts.map((a) => [a.fingerprint, a]));
  return html`<section class="phone" aria-label="Phone">
    ${
      props.state.gateways.length === 0
        ? html`<p class="empty warn">No telephony gateway answered: nobody is being phoned.</p>`
        : props.state.gateways.map(
            (g) => html`<${GatewayCard} key=${g.gatewayHost} gateway=${g} alerts=${alerts} calls=${props.state.calls}
              now=${props.now} />`,
          )
    }
    <h3>Voice notes</h3>
    <${VoiceNotes} notes=${props.state.voiceNotes} alerts=${alerts} now=${props.now} />
    <h3>Last calls</h3>
    <${CallsTable} calls=${props.state.calls} now=${props.now} />
  </section>`;
}
