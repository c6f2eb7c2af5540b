import * as z from 'zod';
import { Duration, RegexSource, refineUniqueNames, Severity } from '../../shared/index.ts';
import { MatcherText } from '../silences/matchers.ts';
import { notifierPlugins } from './registry.ts';

/** Receiver names are part of notification-log keys (fingerprint.generation.receiver.reason), so one KV token. */
export const ReceiverName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
  error: 'expected a receiver name of 1-64 letters, digits, "-" or "_" (no dots or spaces)',
});

export const NotificationReasonName = z.enum(['firing', 'repeat', 'resolved', 'flapping', 'fallback']);

export const RetryConfig = z
  .object({
    /** Attempts in total, the first included; only failures the notifier marks retryable are retried. */
    max_attempts: z.number().int().min(1).max(100).default(5),
    initial_backoff: Duration.prefault('1s'),
    max_backoff: Duration.prefault('1m'),
  })
  .strict();

export const RateLimitConfig = z
  .object({
    /** At most `max` notifications per `per`; the excess waits and is coalesced into the next batch. */
    max: z.number().int().min(1).default(20),
    per: Duration.prefault('1m'),
  })
  .strict();

/** Options every receiver has, whatever its kind. */
export const receiverCommonShape = {
  name: ReceiverName,
  timeout: Duration.prefault('10s'),
  retry: RetryConfig.prefault({}),
  rate_limit: RateLimitConfig.prefault({}),
  /** Whether resolved notifications go to this receiver (a route can override). */
  send_resolved: z.boolean().default(true),
  /** Alerts waiting for this receiver beyond this are dropped oldest first (logged and counted). */
  max_queue: z.number().int().min(1).max(1_000_000).default(1000),
  /** Queued alerts with the same reason are coalesced into one notification of at most this many. */
  max_batch: z.number().int().min(1).max(10_000).default(50),
};

const receiverSchemas = notifierPlugins.map((plugin) =>
  z
    .object({ kind: z.literal(plugin.kind), ...receiverCommonShape })
    .extend(plugin.configSchema.shape)
    .strict()
    // .extend() takes the kind's fields but not its cross-field checks (e.g. trac's mode needs url or database):
    // carried over so check-config reports them, not the collector's start.
    .check(...((plugin.configSchema.def.checks ?? []) as z.core.$ZodCheck<Record<string, unknown>>[])),
);

export const ReceiverConfig = z.discriminatedUnion(
  'kind',
  receiverSchemas as unknown as [z.ZodObject, ...z.ZodObject[]],
  {
    error: `expected kind one of ${notifierPlugins.map((p) => p.kind).join(', ')}`,
  },
);

/** The options every receiver carries after parsing; the kind's own options ride along. */
export type ReceiverConfig = {
  kind: string;
  name: string;
  timeout: number;
  retry: z.infer<typeof RetryConfig>;
  rate_limit: z.infer<typeof RateLimitConfig>;
  send_resolved: boolean;
  max_queue: number;
  max_batch: number;
} & Record<string, unknown>;

/** Exact value, any of a list, or an anchored regular expression ({regex: "web[0-9]+"}), as Alertmanager matchers. */
export const StringMatcher = z.union([
  z.string().min(1),
  z.array(z.string().min(1)).min(1),
  z.object({ regex: RegexSource }).strict(),
]);
export type StringMatcher = z.infer<typeof StringMatcher>;

export const RouteMatch = z
  .object({
    severity: z.union([Severity, z.array(Severity).min(1)]).optional(),
    host: StringMatcher.optional(),
    rule: StringMatcher.optional(),
    labels: z.record(z.string(), StringMatcher).optional(),
    reason: z.union([NotificationReasonName, z.array(NotificationReasonName).min(1)]).optional(),
  })
  .strict();
export type RouteMatch = z.infer<typeof RouteMatch>;

const RouteFields = {
  /** Required on a top-level route; a nested route inherits its parent's when it names none. */
  receiver: ReceiverName.optional(),
  /** Every given field must match; an empty match catches everything. Deprecated for `matchers` (but `reason`). */
  match: RouteMatch.prefault({}),
  /**
   * Alertmanager's matchers (`severity=~"critical|warning"`, `host!="db1"`), on the labels Alertmanager would see:
   * alertname (the rule), host, severity and the alert's own labels. All must match, and `match` too.
   */
  matchers: z.array(MatcherText).optional(),
  /** Keep evaluating later routes after this one matched (Alertmanager's `continue`). */
  continue: z.boolean().default(false),
  send_resolved: z.boolean().optional(),
  /**
   * Alertmanager's group_by: alerts with equal values of these labels (alertname, host, severity and the alert's
   * own labels) share a notification; ['...'] groups by every label; absent or [] puts the route's alerts in one.
   */
  group_by: z.array(z.string().min(1)).optional(),
  /**
   * Alertmanager's group_wait, applied after the durable hand-off (README: Grouping): a group's first queued alert
   * waits this long for the rest of its group, then they go in one notification. 0 (the default) sends at once.
   */
  group_wait: Duration.optional(),
  /**
   * Alertmanager's group_interval: once a group was notified, changes to it go no sooner than this after the
   * previous notification, each carrying the whole group (firing alerts and those resolved since). 0 (the default,
   * Alertmanager's is 5m) keeps offhook's older behaviour: each change goes on its own after group_wait.
   */
  group_interval: Duration.optional(),
};

/**
 * Nested routes (Alertmanager's route tree): an alert goes down into the first child that matches (each child's
 * children likewise, `continue` as at the top), else stays at the route it reached. A child inherits receiver,
 * group_by, group_wait, group_interval and send_resolved when it names none; its groupKey lists the path's matchers.
 */
export interface RouteConfig extends z.infer<z.ZodObject<typeof RouteFields>> {
  routes?: RouteConfig[];
}
export const RouteConfig: z.ZodType<RouteConfig> = z
  .object({ ...RouteFields, routes: z.array(z.lazy(() => RouteConfig)).optional() })
  .strict();

export const NotificationsConfig = z
  .object({
    /** Base URL of the collector's status page, used for links (generatorURL, mail, tickets). */
    external_url: z
      .url({ protocol: /^https?$/, error: 'expected the status page base URL, e.g. "http://collector.example:9465"' })
      .transform((url) => url.replace(/\/+$/, ''))
      .prefault('http://127.0.0.1:9465'),
    receivers: z.array(ReceiverConfig).default([]),
    /** Evaluated in order; the first match wins unless it says `continue: true`. */
    routes: z.array(RouteConfig).default([]),
    /** Where alerts go when the telephony gateway cannot phone (budget spent, nobody answered, line down). */
    fallback_receivers: z.array(ReceiverName).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = refineUniqueNames(
      ctx,
      'receivers',
      config.receivers.map((receiver) => (receiver as { name: string }).name),
      'receiver name',
    );
    const known = `known receivers: ${[...names.keys()].join(', ') || 'none'}`;
    const walk = (routes: RouteConfig[], path: (string | number)[]): void =>
      routes.forEach((route, index) => {
        const at = [...path, index];
        if (route.receiver === undefined && path.length === 1)
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'receiver'],
            message: `a top-level route names its receiver (${known}); nested routes may inherit it`,
          });
        if (route.receiver !== undefined && !names.has(route.receiver))
          ctx.addIssue({
            code: 'custom',
            path: [...at, 'receiver'],
            message: `no receiver named "${route.receiver}" (${known})`,
          });
        walk(route.routes ?? [], [...at, 'routes']);
      });
    walk(config.routes, ['routes']);
    config.fallback_receivers.forEach((name, index) => {
      if (!names.has(name))
        ctx.addIssue({
          code: 'custom',
          path: ['fallback_receivers', index],
          message: `no receiver named "${name}" (${known})`,
        });
    });
  })
  .prefault({});

export type NotificationsConfig = Omit<z.infer<typeof NotificationsConfig>, 'receivers'> & {
  receivers: ReceiverConfig[];
};
