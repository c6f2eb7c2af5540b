/// <reference lib="dom" />
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { ConsoleAlert } from '../api-schema.ts';
import { parseMatchers } from './api.ts';
import { AlertDetail } from './alert-detail.ts';
import { compileMatchers, looksLikeMatchers, textFilter } from './format.ts';
import { html } from './html.ts';
import { Severity, StateBadge } from './badges.ts';
import type { Actions } from './app.ts';
import { ago } from './format.ts';

type GroupBy = 'host' | 'rule';

function initial<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
  const value = new URLSearchParams(location.search).get(key) ?? localStorage.getItem(`offhook.${key}`);
  return allowed.includes(value as T) ? (value as T) : fallback;
}

/** The filter box: label matchers (checked by the server's parser, the one silences use) or plain text. */
function useFilter(text: string): { test: (a: ConsoleAlert) => boolean; error: string | null } {
  const [result, setResult] = useState<{ test: (a: ConsoleAlert) => boolean; error: string | null }>({
    test: () => true,
    error: null,
  });
  useEffect(() => {
    let current = true;
    if (!text.trim()) setResult({ test: () => true, error: null });
    else if (!looksLikeMatchers(text)) setResult({ test: textFilter(text), error: null });
    else
      parseMatchers(text).then(
        (matchers) => current && setResult({ test: compileMatchers(matchers), error: null }),
        (err: Error) => current && setResult((r) => ({ test: r.test, error: err.message })),
      );
    return () => {
      current = false;
    };
  }, [text]);
  return result;
}

export function AlertsPanel(props: { alerts: ConsoleAlert[]; now: number; actions: Actions }) {
  const [groupBy, setGroupBy] = useState<GroupBy>(initial('group', ['host', 'rule'] as const, 'host'));
  const [text, setText] = useState(new URLSearchParams(location.search).get('filter') ?? '');
  const [showResolved, setShowResolved] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const filter = useFilter(text);
  const shown = props.alerts.filter((a) => (showResolved || a.status === 'firing') && filter.test(a));
  const groups = useMemo(() => {
    const map = new Map<string, ConsoleAlert[]>();
    for (const a of shown) map.set(a[groupBy], [...(map.get(a[groupBy]) ?? []), a]);
    return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [shown, groupBy]);
  const choose = (value: GroupBy): void => {
    setGroupBy(value);
    localStorage.setItem('offhook.group', value);
  };
  const firing = props.alerts.filter((a) => a.status === 'firing').length;
  return html`<section class="alerts" aria-label="Alerts">
    <div class="toolbar">
      <div class="segmented" role="group" aria-label="Group alerts by">
        <span>Group by</span>
        ${(['host', 'rule'] as const).map(
          (value) =>
            html`<button type="button" aria-pressed=${groupBy === value} onClick=${() => choose(value)}>
              ${value}</button>`,
        )}
      </div>
      <label class="filter">
        <span>Filter</span>
        <input
          type="search"
          name="filter"
          value=${text}
          placeholder='host=~"web.*" severity!="info", or any text'
          autocomplete="off"
          spellcheck=${false}
          onInput=${(e: Event) => setText((e.target as HTMLInputElement).value)}
        />
      </label>
      <label class="toggle"><input type="checkbox" checked=${showResolved}
        onChange=${(e: Event) => setShowResolved((e.target as HTMLInputElement).checked)} /> resolved (1 h)</label>
    </div>
    ${filter.error ? html`<p class="error" role="alert">${filter.error}</p>` : null}
    <p class="summary">${shown.length} of ${firing} firing shown${text ? ' (filtered)' : ''}</p>
    ${
      groups.length === 0
        ? html`<p class="empty">${firing === 0 ? 'Nothing is firing.' : 'No alert matches.'}</p>`
        : null
    }
    ${groups.map(
      ([key, alerts]) => html`<div class="group" key=${key}>
        <h3>${groupBy}: ${key} <small>${alerts.length} alert${alerts.length === 1 ? '' : 's'}</small></h3>
        <ul class="alert-list">
          ${alerts.map(
            (a) => html`<li key=${a.fingerprint} class=${`alert sev-${a.severity} state-${a.state}`}
              data-fingerprint=${a.fingerprint}>
              <button type="button" class="row" aria-expanded=${open === a.fingerprint}
                onClick=${() => setOpen(open === a.fingerprint ? null : a.fingerprint)}>
                <${Severity} severity=${a.severity} />
                <${StateBadge} state=${a.state} />
                <span class="host">${a.host}</span>
                <span class="rule">${a.rule}${a.check ? html`<span class="check"> · ${a.check}</span>` : null}</span>
                <span class="text">${a.summary}</span>
                <span class="since" title="since / last change">${ago(props.now, a.startsAt)}</span>
              </button>
              ${
                open === a.fingerprint
                  ? html`<${AlertDetail} alert=${a} now=${props.now} actions=${props.actions} />`
                  : null
              }
            </li>`,
          )}
        </ul>
      </div>`,
    )}
  </section>`;
}
