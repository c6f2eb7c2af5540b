import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger, RouteHandler } from '../../shared/index.ts';
import { acknowledge, type ActionDeps, createSilence, expireSilence, parseMatcherList } from './actions.ts';
import { AckRequest, LoginRequest, SilenceRequest, type SessionInfo } from './api-schema.ts';
import { INDEX_HTML, type Assets } from './assets.ts';
import type { ConsoleAuth, Refusal } from './auth.ts';
import { BodyError, readJson, sameOrigin, securityHeaders, sendError, sendJson } from './http.ts';
import type { ConsoleMetrics } from './metrics.ts';
import type { Session } from './sessions.ts';
import type { SseHub } from './sse.ts';

export interface RouteDeps {
  auth: ConsoleAuth;
  actions: ActionDeps;
  hub: SseHub;
  state: () => string;
  assets: () => Promise<Assets>;
  metrics: ConsoleMetrics;
  logger: Logger;
  /** A voice note's WAV from whichever gateway has it, null when none does. */
  voiceNote: (file: string) => Promise<Buffer | null>;
}

const REFUSAL_TEXT: Record<Refusal['reason'], string> = {
  login_required: 'log in first: acting from the console needs a user (collector.yaml console.users)',
  bad_csrf: 'X-CSRF-Token missing or wrong: reload the page',
  cross_origin: 'Origin is not this console',
  throttled: 'too many failed logins; try again in a minute',
};

function isRefusal(value: Session | Refusal): value is Refusal {
  return 'reason' in value;
}

/** Every route of the console, all under /console (the plain status page stays at /). */
export function consoleRoutes(deps: RouteDeps): Record<string, RouteHandler> {
  const refuse = (res: ServerResponse, refusal: Refusal): void => {
    deps.metrics.refused.inc({ reason: refusal.reason });
    sendError(res, refusal.status, REFUSAL_TEXT[refusal.reason]);
  };
  const sessionInfo = (session: Session | null): SessionInfo => ({
    user: session?.user ?? null,
    csrf: session?.csrf ?? null,
    passwordLogin: deps.auth.passwordLogin,
  });

  /** POST with a session, its CSRF token and this origin; the handler's own refusals are 4xx with the field named. */
  const action =
    (
      name: 'ack' | 'silence_add' | 'silence_expire',
      run: (req: IncomingMessage, session: Session, url: URL) => Promise<unknown>,
    ) =>
    async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
      if (!sameOrigin(req)) return refuse(res, { status: 403, reason: 'cross_origin' });
      const session = deps.auth.authorize(req, res);
      if (isRefusal(session)) return refuse(res, session);
      try {
        const result = (await run(req, session, url)) as {
          ok: boolean;
          status?: number;
          error?: string;
          value?: unknown;
        };
        deps.metrics.actions.inc({ action: name, outcome: result.ok ? 'done' : 'invalid' });
        if (!result.ok) return sendError(res, result.status ?? 400, result.error ?? 'refused');
        deps.logger.info({ action: name, user: session.user, via: session.via }, 'console action');
        sendJson(res, 200, { ok: true, by: session.user, value: result.value });
      } catch (err) {
        if (!(err instanceof BodyError)) {
          // NATS unreachable or a store refusing the write: the action did not happen; say so, do not crash.
          deps.logger.error({ err, action: name, user: session.user }, 'console action failed');
          deps.metrics.actions.inc({ action: name, outcome: 'failed' });
          return sendError(res, 503, `not done: ${(err as Error).message}`);
        }
        deps.metrics.actions.inc({ action: name, outcome: 'invalid' });
        sendError(res, err.status, err.message);
      }
    };

  const post =
    (handler: RouteHandler): RouteHandler =>
    (req, res, url) => {
      if (req.method !== 'POST') {
        res.writeHead(405, { ...securityHeaders(), Allow: 'POST', 'Content-Type': 'text/plain' });
        res.end('use POST\n');
        return;
      }
      return handler(req, res, url);
    };

  const routes: Record<string, RouteHandler> = {
    '/': (_req, res) => {
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'text/html; charset=utf-8' });
      res.end(INDEX_HTML);
    },
    '/app.js': async (_req, res) => {
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'text/javascript; charset=utf-8' });
      res.end((await deps.assets()).js);
    },
    '/app.css': async (_req, res) => {
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'text/css; charset=utf-8' });
      res.end((await deps.assets()).css);
    },
    '/api/state': (_req, res) => {
      res.writeHead(200, { ...securityHeaders(), 'Content-Type': 'application/json; charset=utf-8' });
      res.end(deps.state());
    },
    '/api/events': (req, res) => deps.hub.open(req, res),
    '/api/session': (req, res) => sendJson(res, 200, sessionInfo(deps.auth.session(req, res))),
    '/api/matchers': (_req, res, url) => {
      const parsed = parseMatcherList(url.searchParams.get('q') ?? '');
      if (typeof parsed === 'string') return sendError(res, 400, `q: ${parsed}`);
      sendJson(res, 200, parsed);
    },
    '/api/login': post(async (req, res) => {
      if (!sameOrigin(req)) return refuse(res, { status: 403, reason: 'cross_origin' });
      let body: { user: string; password: string };
      try {
        body = await readJson(req, LoginRequest);
      } catch (err) {
        if (!(err instanceof BodyError)) throw err;
        deps.metrics.refused.inc({ reason: 'bad_request' });
        return sendError(res, err.status, err.message);
      }
      const result = await deps.auth.login(req, body.user, body.password);
      if ('reason' in result) {
        deps.metrics.logins.inc({ outcome: 'failed' });
        deps.logger.warn({ user: body.user.slice(0, 64) }, 'console: login refused');
        if (result.status === 429) return refuse(res, result);
        deps.metrics.refused.inc({ reason: 'bad_login' });
        return sendError(res, 401, 'user or password wrong');
      }
      deps.metrics.logins.inc({ outcome: 'ok' });
      deps.logger.info({ user: body.user }, 'console: logged in');
      sendJson(res, 200, sessionInfo(result.session), { 'Set-Cookie': result.cookie });
    }),
    '/api/logout': post((req, res) => {
      if (!sameOrigin(req)) return refuse(res, { status: 403, reason: 'cross_origin' });
      sendJson(res, 200, sessionInfo(null), { 'Set-Cookie': deps.auth.logout(req) });
    }),
    '/api/ack': post(
      action('ack', async (req, session) => {
        const body = await readJson(req, AckRequest);
        return acknowledge(deps.actions, { fingerprint: body.fingerprint, comment: body.comment, by: session.user });
      }),
    ),
    '/api/silences': post(
      action('silence_add', async (req, session) => {
        const body = await readJson(req, SilenceRequest);
        return createSilence(deps.actions, { ...body, by: session.user });
      }),
    ),
  };
  const expire = post(
    action('silence_expire', async (_req, _session, url) => {
      const id = /^\/console\/api\/silences\/([^/]+)\/expire$/.exec(url.pathname)?.[1] ?? '';
      return expireSilence(deps.actions, decodeURIComponent(id));
    }),
  );

  const voiceNote: RouteHandler = async (_req, res, url) => {
    const file = decodeURIComponent(url.pathname.slice('/console/api/voice-notes/'.length));
    const audio = await deps.voiceNote(file);
    if (!audio) return sendError(res, 404, `no gateway has the voice note ${file.slice(0, 100)}`);
    res.writeHead(200, {
      ...securityHeaders(),
      'Content-Type': 'audio/wav',
      'Content-Length': String(audio.length),
      'Cache-Control': 'private, max-age=3600',
    });
    res.end(audio);
  };

  const dispatch: RouteHandler = (req, res, url) => {
    if (url.pathname === '/console') {
      res.writeHead(308, { Location: '/console/' });
      res.end();
      return;
    }
    const path = url.pathname.slice('/console'.length);
    const handler =
      routes[path] ??
      (/^\/api\/silences\/[^/]+\/expire$/.test(path) ? expire : undefined) ??
      (path.startsWith('/api/voice-notes/') ? voiceNote : undefined);
    if (handler) return handler(req, res, url);
    sendError(res, 404, `no console route ${path.slice(0, 100)}`);
  };
  return { '/console': dispatch, '/console/': dispatch };
}
