import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConsoleConfig } from './config.ts';
import { overTls, parseCookies } from './http.ts';
import { verifyNobody, verifyPassword } from './password.ts';
import { csrfMatches, LoginThrottle, type Session, Sessions } from './sessions.ts';

export const SESSION_COOKIE = 'offhook_console';

export type Refusal = { status: 401 | 403 | 429; reason: 'login_required' | 'bad_csrf' | 'cross_origin' | 'throttled' };

/** Who is asking: a session cookie, or (opt-in) the user a trusted reverse proxy names in a header. */
export class ConsoleAuth {
  readonly sessions: Sessions;
  private readonly throttle: LoginThrottle;

  constructor(
    private readonly config: ConsoleConfig,
    now: () => number,
  ) {
    this.sessions = new Sessions(config.session_ttl, now);
    this.throttle = new LoginThrottle(now);
  }

  get passwordLogin(): boolean {
    return this.config.users.length > 0;
  }

  /** The session of this request; with a proxy header, one is made (or replaced) for the user it names. */
  session(req: IncomingMessage, res: ServerResponse | null): Session | null {
    const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
    const current = this.sessions.get(id);
    const proxied = this.proxyUser(req);
    if (proxied === null) return current?.via === 'proxy' ? null : current;
    if (current?.user === proxied && current.via === 'proxy') return current;
    if (!res) return null;
    this.sessions.end(id);
    const created = this.sessions.create(proxied, 'proxy');
    res.setHeader('Set-Cookie', this.cookie(req, created.id));
    return created.session;
  }

  private proxyUser(req: IncomingMessage): string | null {
    const header = this.config.proxy_user_header;
    if (!header) return null;
    const value = req.headers[header.toLowerCase()];
    return typeof value === 'string' && /^[^\u0000-\u001f\u007f]{1,200}$/.test(value) ? value : null;
  }

  /** Checks a password; on success returns the new session and the Set-Cookie header value. */
  async login(
    req: IncomingMessage,
    user: string,
    password: string,
  ): Promise<{ session: Session; cookie: string } | Refusal> {
    if (!this.throttle.allowed(user)) return { status: 429, reason: 'throttled' };
    const account = this.config.users.find((u) => u.name === user);
    const ok = account ? await verifyPassword(password, account.password_hash) : await verifyNobody(password);
    if (!ok) {
      this.throttle.failed(user);
      return { status: 401, reason: 'login_required' };
    }
    this.sessions.end(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    const { id, session } = this.sessions.create(user, 'password');
    return { session, cookie: this.cookie(req, id) };
  }

  logout(req: IncomingMessage): string {
    this.sessions.end(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    return this.cookieHeader(req, '', 0);
  }

  /** An action needs a session and its CSRF token in X-CSRF-Token. */
  authorize(req: IncomingMessage, res: ServerResponse): Session | Refusal {
    const session = this.session(req, res);
    if (!session) return { status: 401, reason: 'login_required' };
    const token = req.headers['x-csrf-token'];
    if (!csrfMatches(session, typeof token === 'string' ? token : undefined))
      return { status: 403, reason: 'bad_csrf' };
    return session;
  }

  private cookie(req: IncomingMessage, id: string): string {
    return this.cookieHeader(req, id, Math.floor(this.config.session_ttl / 1000));
  }

  private cookieHeader(req: IncomingMessage, value: string, maxAge: number): string {
    const secure = this.secure(req) ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
  }

  private secure(req: IncomingMessage): boolean {
    if (this.config.secure_cookies !== 'auto') return this.config.secure_cookies === 'always';
    return overTls(req);
  }
}
