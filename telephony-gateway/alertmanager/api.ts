import { authorizationHeader, type ResolvedAuth } from './auth.ts';

export interface SilenceMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface NewSilence {
  matchers: SilenceMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** A failed API call; `retryable` says whether trying again later can help (network, 5xx, 429) or not (4xx). */
export class AlertmanagerApiError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** The part of Alertmanager's v2 API the bridge uses: creating a silence. */
export class AlertmanagerApi {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly auth: ResolvedAuth | null,
    private readonly timeoutMs: number,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** POST /api/v2/silences; returns the new silence's id. */
  async createSilence(silence: NewSilence): Promise<string> {
    const url = `${this.base}/api/v2/silences`;
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          ...(this.auth ? { Authorization: authorizationHeader(this.auth) } : {}),
        },
        body: JSON.stringify(silence),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new AlertmanagerApiError(`cannot reach Alertmanager at ${url}: ${cause}`, true);
    }
    const text = (await response.text().catch(() => '')).slice(0, 500); // detail only: the status decides
    if (!response.ok) {
      throw new AlertmanagerApiError(
        `Alertmanager refused the silence: HTTP ${response.status} ${text.trim()}`,
        response.status >= 500 || response.status === 429 || response.status === 408,
      );
    }
    let id: unknown;
    try {
      id = (JSON.parse(text) as { silenceID?: unknown }).silenceID;
    } catch {
      id = undefined;
    }
    if (typeof id !== 'string' || id.length === 0)
      throw new AlertmanagerApiError(`Alertmanager answered without a silenceID: ${text}`, false);
    return id;
  }
}
