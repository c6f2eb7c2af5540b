/// <reference lib="dom" />
import type { ConsoleAlert, ConsoleState } from '../api-schema.ts';
import { ago, duration } from './format.ts';
import { html } from './html.ts';

type Gateway = ConsoleState['gateways'][number];
type Call = ConsoleState['calls'][number];

function budgetText(limit: string, left: number | null, currency: string | undefined): string {
  if (left === null) return `${limit}: no limit`;
  const amount = limit.startsWith('cost') ? `${left.toFixed(2)}${currency ? ` ${currency}` : ''}` : String(left);
  return `${limit.replace(/_/g, ' ')}: ${amount} left`;
}

function GatewayCard(props: { gateway: Gateway; alerts: Map<string, ConsoleAlert>; calls: Call[]; now: number }) {
  const g = props.gateway;
  const line = !g.line.up ? 'down' : g.line.busy ? 'on a call' : 'idle';
  return html`<article class="gateway" data-gateway=${g.gatewayHost}>
    <h3>${g.gatewayHost} <small>${g.line.driver}</small></h3>
    <p class=${`line ${line.replace(/ /g, '-')}`}>Line: <strong>${line}</strong>
      ${g.watchdog && g.watchdog.blind.length > 0 ? html` · <span class="blind">blind: ${g.watchdog.blind.join(', ')}</span>` : null}</p>
    <h4>Queue (${g.queue.length})</h4>
    ${g.queue.length === 0 ? html`<p class="empty">Nobody is waiting to be phoned.</p>` : null}
    <ol class="queue">
      ${g.queue.map((q) => {
        const tried = props.calls.filter((c) => c.fingerprints.includes(q.fingerprint));
        return html`<li key=${q.fingerprint} data-fingerprint=${q.fingerprint}>
          <span>${props.alerts.get(q.fingerprint)?.summary ?? `${q.host} ${q.rule}`}</span>
          <span class="step">round ${q.round + 1}${tried.length ? `, ${tried.length} call(s) so far` : ''}</span>
          ${
            tried.length
              ? html`<ul class="steps">${tried.map(
                  (c) =>
                    html`<li>${c.person ?? c.number}: ${c.outcome.replace(/_/g, ' ')} ${ago(props.now, c.ts)}</li>`,
                )}</ul>`
              : null
          }
        </li>`;
      })}
    </ol>
    <h4>Budget</h4>
    <ul class="budget">${Object.entries(g.budget).map(([k, v]) => html`<li>${budgetText(k, v, g.currency)}</li>`)}</ul>
  </article>`;
}

export function CallsTable(props: { calls: Call[]; now: number }) {
  if (props.calls.length === 0) return html`<p class="empty">No calls recorded.</p>`;
  return html`<table class="calls">
    <thead><tr><th>when</th><th>who</th><th>outcome</th><th>keys</th><th>length</th><th>cost</th><th>alerts</th></tr></thead>
    <tbody>${props.calls.map(
      (c) => html`<tr key=${c.callId} data-call=${c.callId}>
        <td data-label="when">${ago(props.now, c.ts)}</td>
        <td data-label="who">${c.direction === 'inbound' ? '⇠ ' : '⇢ '}${c.person ?? ''} ${c.number}</td>
        <td data-label="outcome" class=${`outcome ${c.outcome}`}>${c.outcome.replace(/_/g, ' ')}</td>
        <td data-label="keys">${c.digits || '-'}</td>
        <td data-label="length">${duration(c.durationMs)}</td>
        <td data-label="cost">${c.estimatedCost.toFixed(2)}${c.currency ? ` ${c.currency}` : ''}</td>
        <td data-label="alerts">${c.fingerprints.length}</td>
      </tr>`,
    )}</tbody>
  </table>`;
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
    <h3>Last calls</h3>
    <${CallsTable} calls=${props.state.calls} now=${props.now} />
  </section>`;
}
