import * as z from 'zod';
import {
  type ConfigFileKind,
  Duration,
  DurationAtLeast,
  ListenAddress,
  natsDefaultNotice,
  NatsConfig,
  refineUniqueNames,
} from '../shared/index.ts';
import { GatewayAlertsConfig } from './alerts/index.ts';
import { ConsoleConfig, DEFAULT_CONSOLE } from './console/config.ts';
import { DEFAULT_GROUP, GroupConfig } from './group/index.ts';
import { DEFAULT_INTAKE_CONFIG, IntakeConfig } from './intake/index.ts';
import { InhibitRuleConfig, inhibitRuleNotices } from './mute/inhibit-rules.ts';
import { NotificationsConfig } from './notify/index.ts';
import { routeMatchNotices } from './notify/route-notices.ts';
import { tracModeNotices } from './notify/trac.ts';
import { FlappingConfig, RuleConfig } from './rules/index.ts';
import { CollectorWatchdogConfig, DEFAULT_COLLECTOR_WATCHDOG } from './watchdog/config.ts';
import { DEFAULT_ANNOUNCE_WITHIN_MS } from './alerts/replay-window.ts';

const DEFAULT_FLAPPING = { enabled: true, high_threshold: 30, low_threshold: 15 };

/** collector.yaml (see deploy/examples/collector.yaml for every field with comments). */
export const CollectorConfig = z
  .object({
    nats: NatsConfig,
    /** /metrics, /healthz, the status page (/) and the JSON API (/api/...). */
    listen: ListenAddress.default('127.0.0.1:9465'),
    /** How often time-driven rules run (missing heartbeats, sliding windows, `for`, repeats). */
    evaluation_interval: DurationAtLeast(10, '10ms').default(1000),
    /** How often rule state is checkpointed to KV; a crash replays at most this much of EVENTS. */
    checkpoint_interval: DurationAtLeast(100, '100ms').default(10_000),
    /** A transition announce_within older than the head of EVENTS is stored, not told (README "Time"). */
    replay: z
      .object({ announce_within: Duration.default(DEFAULT_ANNOUNCE_WITHIN_MS) })
      .strict()
      .default({ announce_within: DEFAULT_ANNOUNCE_WITHIN_MS }),
    defaults: z
      .object({
        /** Re-notify a firing, unacknowledged alert this often (0 = never). */
        repeat_interval: Duration.default(4 * 3_600_000),
        flapping: FlappingConfig.default(DEFAULT_FLAPPING),
      })
      .strict()
      .default({ repeat_interval: 4 * 3_600_000, flapping: DEFAULT_FLAPPING }),
    rules: z.array(RuleConfig).max(10_000).default([]),
    /** Alertmanager's inhibit_rules: a firing source alert holds back matching targets (README, Inhibit rules). */
    inhibit_rules: z.array(InhibitRuleConfig).max(1000).default([]),
    /** Bounds on what an agent event may claim and on one host's share of EVENTS (README, Limits). */
    intake: IntakeConfig.default(DEFAULT_INTAKE_CONFIG),
    /** The telephony gateway's line down / budget spent become alerts for the notifiers (never the phone). */
    gateway_alerts: GatewayAlertsConfig.default({ enabled: true, line_down_quiet_period: 15 * 60_000 }),
    /** Heartbeat and canary for the gateway's watchdog; `gateway_silent` for the notifiers (README, Watchdog). */
    watchdog: CollectorWatchdogConfig.default(DEFAULT_COLLECTOR_WATCHDOG),
    /** Several collectors sharing the hosts by partition, with failover (README, Collector group). */
    group: GroupConfig.default(DEFAULT_GROUP),
    /** Receivers and routes (collector/notify); its external_url is also the status page's link base. */
    notifications: NotificationsConfig,
    /** The operator web console at /console/ on `listen`: users who may act, proxy login (collector/README.md). */
    console: ConsoleConfig.default(DEFAULT_CONSOLE),
  })
  .strict()
  .superRefine((config, ctx) => {
    refineUniqueNames(
      ctx,
      'rules',
      config.rules.map((rule) => rule.name),
      'rule name',
    );
  });
export type CollectorConfig = z.infer<typeof CollectorConfig>;

function hasReceivers(input: Record<string, unknown>): boolean {
  const receivers = (input.notifications as { receivers?: unknown } | null | undefined)?.receivers;
  return Array.isArray(receivers) && receivers.length > 0;
}

/** collector.yaml as a file: without rules a collector raises nothing, not even host_down. */
export const CollectorConfigFile: ConfigFileKind<typeof CollectorConfig> = {
  schema: CollectorConfig,
  label: 'collector',
  essentials: ['nats', 'rules'],
  required: {
    rules: 'a collector without rules raises no alert, not even host_down (see deploy/examples/collector.yaml)',
  },
  notices: (input) => [
    ...natsDefaultNotice(input),
    ...(hasReceivers(input)
      ? []
      : ['notifications: no receivers; alerts reach only the telephony gateway, if one runs']),
    ...routeMatchNotices(input),
    ...tracModeNotices(input),
    ...inhibitRuleNotices(input),
  ],
};
