import type { ConsoleState, SessionInfo } from '../../../collector/console/api-schema.ts';

/** Follows /console/api/events and keeps the latest `state`; tests wait on a predicate over it (no sleeps). */
export class SseFollower {
  latest: ConsoleState | null = null;
  events = 0;
  private readonly abort = new AbortController();
  private waiters: { test: (s: ConsoleState) => boolean; resolve: (s: ConsoleState) => void }[] = [];

  constructor(private readonly url: string) {}

  async start(): Promise<void> {
    const res = await fetch(`${this.url}/console/api/events`, { signal: this.abort.signal });
    if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          this.frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    })().catch(() => {
      // Aborted by stop(): the test is over.
    });
  }

  private frame(text: string): void {
    const lines = text.split('\n');
    if (!lines.includes('event: state')) return;
    const data = lines.find((l) => l.startsWith('data: '));
    if (!data) return;
    this.latest = JSON.parse(data.slice(6)) as ConsoleState;
    this.events++;
    const state = this.latest;
    this.waiters = this.waiters.filter((w) => (w.test(state) ? (w.resolve(state), false) : true));
  }

  waitFor(test: (s: ConsoleState) => boolean, what: string, timeoutMs = 10_000): Promise<ConsoleState> {
    if (this.latest && test(this.latest)) return Promise.resolve(this.latest);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.waiters.push({ test, resolve: (s) => (clearTimeout(timer), resolve(s)) });
    });
  }

  stop(): void {
    this.abort.abort();
  }
}

/** A browser-like client: keeps the session cookie, sends the CSRF token with actions. */
export class ConsoleClient {
  cookie = '';
  csrf: string | null = null;

  constructor(readonly url: string) {}

  async login(user: string, password: string): Promise<Response> {
    const res = await this.post('/console/api/login', { user, password });
    if (res.ok) {
      this.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      this.csrf = ((await res.clone().json()) as SessionInfo).csrf;
    }
    return res;
  }

  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(this.cookie ? { Cookie: this.cookie } : {}),
        ...(this.csrf ? { 'X-CSRF-Token': this.csrf } : {}),
        ...headers,
      },
      body: JSON.stringify(body),
    });
  }
}
