/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import type { ConsoleAlert } from '../api-schema.ts';
import type { Actions } from './app.ts';
import { ago, clock, silenceMatchersFor } from './format.ts';
import { html } from './html.ts';

export const DURATIONS = ['30m', '1h', '2h', '4h', '12h', '1d', '1w'];

function Field(props: { name: string; children: unknown }) {
  return html`<div class="field"><dt>${props.name}</dt><dd>${props.children}</dd></div>`;
}

export function AlertDetail(props: { alert: ConsoleAlert; now: number; actions: Actions }) {
  const a = props.alert;
  const [comment, setComment] = useState('');
  const [matchers, setMatchers] = useState(silenceMatchersFor(a));
  const [length, setLength] = useState('2h');
  const [why, setWhy] = useState('');
  const labels = Object.entries(a.labels);
  return html`<div class="detail">
    <dl>
      <${Field} name="summary">${a.summary}<//>
      <${Field} name="fingerprint"><code>${a.fingerprint}</code><//>
      <${Field} name="generation">${a.generation}<//>
      <${Field} name="rule">${a.rule} (${a.ruleKind})${a.check ? ` · check ${a.check}` : ''}<//>
      <${Field} name="value">${a.value ?? '-'}<//>
      <${Field} name="since">${clock(a.startsAt)} (${ago(props.now, a.startsAt)})<//>
      <${Field} name="last change">${clock(a.lastChangeAt)} (${ago(props.now, a.lastChangeAt)})<//>
      <${Field} name="last notified">${ago(props.now, a.lastNotifiedAt)}<//>
      ${a.untold ? html`<${Field} name="not told">${a.untold}<//>` : null}
      ${a.endsAt ? html`<${Field} name="resolved">${clock(a.endsAt)}<//>` : null}
      <${Field} name="labels">${
        labels.length === 0 ? '-' : labels.map(([k, v]) => html`<code class="label">${k}=${v}</code> `)
      }<//>
      ${
        a.ack
          ? html`<${Field} name="acknowledged">by ${a.ack.by} ${ago(props.now, a.ack.at)}${
              a.ack.comment ? `: ${a.ack.comment}` : ''
            }<//>`
          : null
      }
      ${
        a.silence
          ? html`<${Field} name="silenced">by ${a.silence.createdBy} until ${clock(a.silence.endsAt)}: ${
              a.silence.comment
            }<//>`
          : null
      }
    </dl>
    ${
      a.status === 'firing'
        ? html`<div class="actions">
      <form class="ack-form" onSubmit=${(e: Event) => {
        e.preventDefault();
        void props.actions.run('ack', { fingerprint: a.fingerprint, comment }, `acknowledged ${a.host} ${a.rule}`);
      }}>
        <label><span>Comment</span><input name="comment" value=${comment} maxlength="1000"
          placeholder="what you are doing"
          onInput=${(e: Event) => setComment((e.target as HTMLInputElement).value)} /></label>
        <button type="submit" class="primary" disabled=${a.ack !== null}>Acknowledge</button>
      </form>
      <form class="silence-form" onSubmit=${(e: Event) => {
        e.preventDefault();
        void props.actions.run('silences', { matchers, duration: length, comment: why }, `silenced ${matchers}`);
      }}>
        <label class="wide"><span>Silence matching</span><input name="matchers" value=${matchers} spellcheck=${false}
          onInput=${(e: Event) => setMatchers((e.target as HTMLInputElement).value)} /></label>
        <label><span>For</span><select name="duration" value=${length}
          onChange=${(e: Event) => setLength((e.target as HTMLSelectElement).value)}>
          ${DURATIONS.map((d) => html`<option value=${d}>${d}</option>`)}</select></label>
        <label><span>Why</span><input name="reason" value=${why} required maxlength="1000" placeholder="reason"
          onInput=${(e: Event) => setWhy((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Silence</button>
      </form>
    </div>`
        : null
    }
  </div>`;
}
