/// <reference lib="dom" />
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleState, SessionInfo } from '../api-schema.ts';
import { AlertsPanel } from './alerts.ts';
import { follow, getSession, LoginNeeded, post } from './api.ts';
import { HostsPanel } from './hosts.ts';
import { html } from './html.ts';
import { LoginForm } from './login.ts';
import { PhonePanel } from './phone.ts';
import { SilencesPanel } from './silences.ts';

/** What panels may do: run an action (asks for a login first when there is no session). */
export interface Actions {
  run(path: string, body: unknown, done: string): Promise<void>;
}

const TABS = ['alerts', 'phone', 'hosts', 'silences'] as const;
type Tab = (typeof TABS)[number];
const tabFromHash = (): Tab =>
  TABS.includes(location.hash.slice(1) as Tab) ? (location.hash.slice(1) as Tab) : 'alerts';

export function App() {
  const [state, setState] = useState<ConsoleState | null>(null);
  const [live, setLive] = useState(false);
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [loggingIn, setLoggingIn] = useState(false);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [tab, setTab] = useState<Tab>(tabFromHash());
  const [skew, setSkew] = useState(0);
  const [now, setNow] = useState(Date.now());

  useEffect(
    () =>
      follow((s) => {
        setState(s);
        setSkew(s.ts - Date.now());
      }, setLive),
    [],
  );
  useEffect(() => {
    getSession().then(setSession, () => setSession(null));
    const timer = setInterval(() => setNow(Date.now()), 1000);
    const onHash = (): void => setTab(tabFromHash());
    addEventListener('hashchange', onHash);
    return () => {
      clearInterval(timer);
      removeEventListener('hashchange', onHash);
    };
  }, []);

  const actions: Actions = {
    run: async (path, body, done) => {
      if (!session?.user) {
        setLoggingIn(true);
        setMessage({ text: 'Log in to do that.', error: true });
        return;
      }
      try {
        const result = await post<{ by: string }>(path, body, session.csrf);
        setMessage({ text: `${done} (as ${result.by})`, error: false });
      } catch (err) {
        setMessage({ text: (err as Error).message, error: true });
        if (err instanceof LoginNeeded) {
          setSession({ ...session, user: null, csrf: null });
          setLoggingIn(true);
        }
      }
    },
  };
  const logout = (): void => {
    post<SessionInfo>('logout', {}, session?.csrf ?? null).then(setSession, () => setSession(null));
  };
  const at = now + skew;
  const firing = state?.alerts.filter((a) => a.status === 'firing') ?? [];
  const critical = firing.filter((a) => a.severity === 'critical').length;
  const criticalNote = critical ? html`, <strong>${critical} critical</strong>` : null;
  const down = state?.hosts.filter((h) => h.down).length ?? 0;
  const counts: Record<Tab, string> = {
    alerts: `${firing.length}`,
    phone: `${state?.gateways.reduce((n, g) => n + g.queue.length, 0) ?? 0}`,
    hosts: down ? `${down} down` : `${state?.hosts.length ?? 0}`,
    silences: `${state?.silences.filter((s) => s.state === 'active').length ?? 0}`,
  };
  return html`<header class="top">
      <h1>offhook</h1>
      <p class="status">
        <span class=${live ? 'live' : 'offline'}>${live ? '● live' : '○ reconnecting…'}</span>
        ${state ? html` · ${firing.length} firing${criticalNote}` : null}
        ${state ? html` · <span class="member">collector ${state.member}</span>` : null}
      </p>
      <div class="user">
        ${
          session?.user
            ? html`<span>${session.user}</span> <button type="button" onClick=${logout}>Log out</button>`
            : session && !session.passwordLogin
              ? html`<span class="readonly" title="collector.yaml console.users is empty">read-only</span>`
              : html`<button type="button" class="primary" onClick=${() => setLoggingIn(true)}>Log in</button>`
        }
      </div>
    </header>
    <nav class="tabs">
      ${TABS.map(
        (t) =>
          html`<a href=${`#${t}`} aria-current=${tab === t ? 'page' : undefined}>${t} <small>${counts[t]}</small></a>`,
      )}
    </nav>
    ${
      message
        ? html`<p class=${message.error ? 'message error' : 'message'} role="status">${message.text}
      <button type="button" class="close" aria-label="dismiss" onClick=${() => setMessage(null)}>×</button></p>`
        : null
    }
    ${
      loggingIn
        ? html`<${LoginForm} onDone=${(s: SessionInfo | null) => {
            setLoggingIn(false);
            if (s) {
              setSession(s);
              setMessage({ text: `logged in as ${s.user}`, error: false });
            }
          }} />`
        : null
    }
    ${
      !state
        ? html`<p class="empty">Connecting to the collector…</p>`
        : html`<div class=${`layout tab-${tab}`}>
          <div class="main">
            ${tab === 'alerts' ? html`<${AlertsPanel} alerts=${state.alerts} now=${at} actions=${actions} />` : null}
            ${tab === 'phone' ? html`<${PhonePanel} state=${state} now=${at} />` : null}
            ${tab === 'hosts' ? html`<${HostsPanel} hosts=${state.hosts} now=${at} />` : null}
            ${tab === 'silences' ? html`<${SilencesPanel} silences=${state.silences} actions=${actions} />` : null}
          </div>
          ${
            tab === 'alerts'
              ? html`<aside class="side"><h2>Phone</h2><${PhonePanel} state=${state} now=${at} /></aside>`
              : null
          }
        </div>`
    }`;
}
