import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  user: string;
  /** Sent back in X-CSRF-Token with every action; never in a cookie. */
  csrf: string;
  expiresAt: number;
  via: 'password' | 'proxy';
}

const token = (): string => randomBytes(32).toString('base64url');
const MAX_SESSIONS = 10_000;

/**
 * Sessions live in this collector's memory: a restart logs everyone out, and in a collector group each member keeps
 * its own (sticky routing, or log in again on another member). Nothing secret leaves the process.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  create(user: string, via: Session['via']): { id: string; session: Session } {
    this.sweep();
    if (this.byId.size >= MAX_SESSIONS) {
      // The oldest goes: a flood of logins by valid users must not grow memory without bound.
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
    const id = token();
    const session = { user, csrf: token(), expiresAt: this.now() + this.ttlMs, via };
    this.byId.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): Session | null {
    if (!id) return null;
    const session = this.byId.get(id);
    if (!session) return null;
    if (session.expiresAt <= this.now()) {
      this.byId.delete(id);
      return null;
    }
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.byId) if (session.expiresAt <= now) this.byId.delete(id);
  }
}

export function csrfMatches(session: Session, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Failed logins per user name and overall within a minute; beyond the limits every login is refused until the minute
 * has passed (scrypt already makes each guess cost 50-100 ms).
 */
export class LoginThrottle {
  private windowStart = 0;
  private total = 0;
  private readonly perUser = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly perUserLimit = 5,
    private readonly totalLimit = 30,
  ) {}

  allowed(user: string): boolean {
    this.roll();
    return this.total < this.totalLimit && (this.perUser.get(user) ?? 0) < this.perUserLimit;
  }

  failed(user: string): void {
    this.roll();
    this.total++;
    if (this.perUser.size < 10_000 || this.perUser.has(user)) this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
  }

  private roll(): void {
    const now = this.now();
    if (now - this.windowStart < 60_000) return;
    this.windowStart = now;
    this.total = 0;
    this.perUser.clear();
  }
}
