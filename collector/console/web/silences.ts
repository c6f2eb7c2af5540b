/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import type { ConsoleSilence } from '../api-schema.ts';
import { DURATIONS } from './alert-detail.ts';
import type { Actions } from './app.ts';
import { clock } from './format.ts';
import { html } from './html.ts';

function describe(s: ConsoleSilence): string {
  return s.matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(' ');
}

export function SilencesPanel(props: { silences: ConsoleSilence[]; actions: Actions }) {
  const [matchers, setMatchers] = useState('');
  const [length, setLength] = useState('2h');
  const [why, setWhy] = useState('');
  return html`<section class="silences" aria-label="Silences">
    <form class="silence-form" onSubmit=${(e: Event) => {
      e.preventDefault();
      void props.actions.run('silences', { matchers, duration: length, comment: why }, `silenced ${matchers}`);
    }}>
      <label class="wide"><span>New silence: matchers</span><input name="matchers" value=${matchers} required
        spellcheck=${false} placeholder='host=web1 rule=~"disk.*"'
        onInput=${(e: Event) => setMatchers((e.target as HTMLInputElement).value)} /></label>
      <label><span>For</span><select name="duration" value=${length}
        onChange=${(e: Event) => setLength((e.target as HTMLSelectElement).value)}>
        ${DURATIONS.map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
      <label><span>Why</span><input name="reason" value=${why} required maxlength="1000"
        onInput=${(e: Event) => setWhy((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Add silence</button>
    </form>
    ${props.silences.length === 0 ? html`<p class="empty">No silences in the last hour.</p>` : null}
    <ul class="silence-list">
      ${props.silences.map(
        (s) => html`<li key=${s.id} class=${`silence ${s.state}`} data-silence=${s.id}>
          <span class=${`state ${s.state}`}>${s.state}</span>
          <code class="matchers">${describe(s)}</code>
          <span class="who">${s.createdBy}: ${s.comment}</span>
          <span class="until">${s.state === 'expired' ? 'ended' : 'until'} ${clock(s.endsAt)}</span>
          ${
            s.state === 'expired'
              ? null
              : html`<button type="button" onClick=${() =>
                  props.actions.run(`silences/${encodeURIComponent(s.id)}/expire`, {}, `expired silence ${s.id}`)}>
                  Expire</button>`
          }
        </li>`,
      )}
    </ul>
  </section>`;
}
