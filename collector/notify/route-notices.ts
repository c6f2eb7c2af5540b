import { goQuote } from './go-quote.ts';
import { RouteMatch } from './config.ts';
import { matchersOf } from './route.ts';

/**
 * check-config's deprecation notice for a route's `match:` block: it names the route and the Alertmanager `matchers:`
 * that replace it (reason, offhook's own, has no matcher and stays under `match:`). Reads the raw file: a block the
 * schema refuses gets the schema's error instead, not a notice.
 */
export function routeMatchNotices(input: Record<string, unknown>): string[] {
  const notices: string[] = [];
  // Nested routes (`routes:` under a route) get the same notice, named by their path.
  const walk = (routes: unknown, path: string): void => {
    if (!Array.isArray(routes)) return;
    routes.forEach((route: unknown, index) => {
      const at = `${path}.${index}`;
      walk((route as { routes?: unknown } | null)?.routes, `${at}.routes`);
      const notice = matchNotice((route as { match?: unknown } | null)?.match);
      if (notice) notices.push(`${at}.match: ${notice}`);
    });
  };
  walk((input.notifications as { routes?: unknown } | null | undefined)?.routes, 'notifications.routes');
  return notices;
}

function matchNotice(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  const parsed = RouteMatch.safeParse(raw);
  if (!parsed.success) return undefined;
  const { reason, ...rest } = parsed.data;
  const matchers = matchersOf(rest).map((m) => `'${m.name}${m.op}${goQuote(m.value)}'`);
  if (matchers.length === 0) return undefined;
  const keep = reason === undefined ? '' : ` and keep match: { reason: ${JSON.stringify(reason)} }`;
  return `deprecated; write matchers: [${matchers.join(', ')}]${keep} (Alertmanager syntax)`;
}
