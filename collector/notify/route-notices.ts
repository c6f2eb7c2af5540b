import { goQuote } from './go-quote.ts';
import { RouteMatch } from './config.ts';
import { matchersOf } from './route.ts';

/**
 * check-config's deprecation notice for a route's `match:` block: it names the route and the Alertmanager `matchers:`
 * that replace it (reason, offhook's own, has no matcher and stays under `match:`). Reads the raw file: a block the
 * schema refuses gets the schema's error instead, not a notice.
 */
export function routeMatchNotices(input: Record<string, unknown>): string[] {
  const routes = (input.notifications as { routes?: unknown } | null | undefined)?.routes;
  if (!Array.isArray(routes)) return [];
  const notices: string[] = [];
  routes.forEach((route: unknown, index) => {
    const raw = (route as { match?: unknown } | null)?.match;
    if (raw === undefined) return;
    const parsed = RouteMatch.safeParse(raw);
    if (!parsed.success) return;
    const { reason, ...rest } = parsed.data;
    const matchers = matchersOf(rest).map((m) => `'${m.name}${m.op}${goQuote(m.value)}'`);
    if (matchers.length === 0) return;
    const keep = reason === undefined ? '' : ` and keep match: { reason: ${JSON.stringify(reason)} }`;
    notices.push(
      `notifications.routes.${index}.match: deprecated; write matchers: [${matchers.join(', ')}]${keep} ` +
        '(Alertmanager syntax)',
    );
  });
  return notices;
}
