/// <reference lib="dom" />
import type { ConsoleHost } from '../api-schema.ts';
import { ago } from './format.ts';
import { html } from './html.ts';

export function HostsPanel(props: { hosts: ConsoleHost[]; now: number }) {
  if (props.hosts.length === 0) return html`<p class="empty">No agent has been heard from yet.</p>`;
  return html`<section class="hosts" aria-label="Hosts">
    <table>
      <thead><tr>
        <th>host</th><th>state</th><th>last heartbeat</th><th>agent</th><th>event lag</th><th>spool</th>
      </tr></thead>
      <tbody>
        ${props.hosts.map(
          (h) => html`<tr key=${h.host} class=${h.down ? 'down' : 'up'}>
            <td data-label="host">${h.host}</td>
            <td data-label="state">
              <span class=${`updown ${h.down ? 'down' : 'up'}`}>${h.down ? '✖ DOWN' : '✔ up'}</span>
            </td>
            <td data-label="last heartbeat">${ago(props.now, h.lastHeartbeatAt)}</td>
            <td data-label="agent">${h.agentVersion || '-'}</td>
            <td data-label="event lag">${h.eventLag === null ? '-' : `${h.eventLag} events`}</td>
            <td data-label="spool">${h.spoolDepth}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </section>`;
}
