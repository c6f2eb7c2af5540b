/// <reference lib="dom" />
import { useState } from 'preact/hooks';
import type { SessionInfo } from '../api-schema.ts';
import { post } from './api.ts';
import { html } from './html.ts';

export function LoginForm(props: { onDone: (session: SessionInfo | null) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  return html`<form class="login" aria-label="Log in" onSubmit=${(e: Event) => {
    e.preventDefault();
    post<SessionInfo>('login', { user, password }, null).then(props.onDone, (err: Error) => setError(err.message));
  }}>
    <h2>Log in to act</h2>
    <p>Anyone who reaches this page can look; acknowledging and silencing need a user.</p>
    <label><span>User</span><input name="user" autocomplete="username" required value=${user}
      onInput=${(e: Event) => setUser((e.target as HTMLInputElement).value)} /></label>
    <label><span>Password</span><input name="password" type="password" autocomplete="current-password" required
      value=${password} onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} /></label>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    <div class="buttons">
      <button type="submit" class="primary">Log in</button>
      <button type="button" onClick=${() => props.onDone(null)}>Cancel</button>
    </div>
  </form>`;
}
