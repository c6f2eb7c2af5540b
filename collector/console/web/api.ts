/// <reference lib="dom" />
import type { ConsoleState, SessionInfo } from '../api-schema.ts';
import type { Matcher } from './format.ts';

export type { ConsoleState, SessionInfo };

async function errorOf(res: Response): Promise<string> {
  try {
    return ((await res.json()) as { error?: string }).error ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

export async function getSession(): Promise<SessionInfo> {
  const res = await fetch('/console/api/session', { credentials: 'same-origin' });
  if (!res.ok) throw new Error(await errorOf(res));
  return (await res.json()) as SessionInfo;
}

/** POSTs JSON with the session's CSRF token; resolves with the body or throws the server's message. */
/** An action refused for want of a session (it expired, or the collector restarted): log in again. */
export class LoginNeeded extends Error {}

export async function post<T>(path: string, body: unknown, csrf: string | null): Promise<T> {
  const res = await fetch(`/console/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', ...(csrf ? { 'X-CSRF-Token': csrf } : {}) },
    body: JSON.stringify(body),
  });
  if (res.status === 401 && path !== 'login') throw new LoginNeeded(await errorOf(res));
  if (!res.ok) throw new Error(await errorOf(res));
  return (await res.json()) as T;
}

export async function parseMatchers(text: string): Promise<Matcher[]> {
  const res = await fetch(`/console/api/matchers?q=${encodeURIComponent(text)}`);
  if (!res.ok) throw new Error(await errorOf(res));
  return (await res.json()) as Matcher[];
}

/** The live feed: a full state per event; EventSource reconnects by itself (retry: 2000 from the server). */
export function follow(onState: (s: ConsoleState) => void, onConnected: (up: boolean) => void): () => void {
  const source = new EventSource('/console/api/events');
  source.addEventListener('state', (event) => {
    onConnected(true);
    onState(JSON.parse((event as MessageEvent<string>).data) as ConsoleState);
  });
  source.addEventListener('error', () => onConnected(false));
  return () => source.close();
}
