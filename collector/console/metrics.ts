import { counter, Gauge, initCounter, type Registry } from '../../shared/index.ts';

export type ConsoleMetrics = ReturnType<typeof consoleMetrics>;

export function consoleMetrics(registry: Registry) {
  const existing = registry.getSingleMetric('offhook_console_live_clients');
  const live =
    (existing as Gauge | undefined) ??
    new Gauge({
      name: 'offhook_console_live_clients',
      help: 'Browsers following the web console live (SSE)',
      registers: [registry],
    });
  return {
    live,
    actions: initCounter(
      counter(registry, 'offhook_console_actions_total', 'Web console actions by kind and outcome', [
        'action',
        'outcome',
      ]),
      ['ack', 'silence_add', 'silence_expire'].flatMap((action) =>
        ['done', 'invalid', 'failed'].map((outcome) => ({ action, outcome })),
      ),
    ),
    refused: initCounter(
      counter(registry, 'offhook_console_refused_total', 'Web console requests refused, by reason', ['reason']),
      ['login_required', 'bad_csrf', 'cross_origin', 'throttled', 'bad_login', 'bad_request'].map((reason) => ({
        reason,
      })),
    ),
    logins: initCounter(counter(registry, 'offhook_console_logins_total', 'Web console password logins', ['outcome']), [
      { outcome: 'ok' },
      { outcome: 'failed' },
    ]),
  };
}
