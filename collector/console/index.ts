import { hostname } from 'node:os';
import {
  jetstreamClient,
  openBucket,
  systemClock,
  type Clock,
  type ClockTimer,
  type Logger,
  type NatsConnection,
  type Registry,
  type RouteHandler,
  type Subjects,
} from '../../shared/index.ts';
import { AlertStore } from '../alerts/index.ts';
import type { HostInfo } from '../alerts/index.ts';
import { SilenceStore } from '../silences/index.ts';
import type { ConsoleState } from './api-schema.ts';
import { loadAssets, type Assets } from './assets.ts';
import { ConsoleAuth } from './auth.ts';
import type { ConsoleConfig } from './config.ts';
import { ConsoleLive } from './live.ts';
import { consoleMetrics } from './metrics.ts';
import { consoleRoutes } from './routes.ts';
import { SseHub } from './sse.ts';
import { fetchVoiceNote } from './voice-notes.ts';
import { alertViews, hostViews, silenceViews } from './view.ts';

export { ConsoleConfig, DEFAULT_CONSOLE } from './config.ts';

/** Resolved alerts and ended silences stay on the page this long. */
const RECENT_MS = 3_600_000;
const GATEWAY_POLL_MS = 1000;

export interface ConsoleDeps {
  config: ConsoleConfig;
  nc: NatsConnection;
  subjects: Subjects;
  logger: Logger;
  registry: Registry;
  clock: Clock;
  member: string;
  /** The hosts this member's partitions know (event positions for the lag column). */
  engineHosts: () => Map<string, HostInfo>;
}

export interface RunningConsole {
  routes: Record<string, RouteHandler>;
  live: ConsoleLive;
  stop(): void;
}

/** The operator web console (collector/README.md, Web console), mounted on the collector's HTTP listener. */
export async function startConsole(deps: ConsoleDeps): Promise<RunningConsole> {
  const { nc, subjects, clock } = deps;
  const logger = deps.logger.child({ component: 'console' });
  const now = (): number => clock.now();
  const alertsKv = await openBucket(nc, subjects, 'alerts');
  const silencesKv = await openBucket(nc, subjects, 'silences');
  const metrics = consoleMetrics(deps.registry);
  let pollTimer: ClockTimer | undefined;
  let stopped = false;

  const state = (): string => {
    const at = now();
    const silences = [...live.silences.values()];
    const heard = new Map([...live.heard].map(([host, h]) => [host, { ...h.beat, ts: h.at }]));
    const records = live.records();
    const body: ConsoleState = {
      ts: at,
      member: deps.member || hostname(),
      alerts: alertViews(records.values(), silences, at, RECENT_MS),
      hosts: hostViews(heard, deps.engineHosts(), records.values()),
      silences: silenceViews(silences, at, RECENT_MS),
      gateways: [...live.gateways.values()].map((g) => g.status),
      calls: live.calls,
      voiceNotes: live.voiceNotes,
    };
    return JSON.stringify(body);
  };
  // Delivery timers run on wall time even under a test's manual clock: a browser waits in real time.
  const hub = new SseHub(state, systemClock, (clients) => {
    metrics.live.set(clients);
    if (clients > 0 && !pollTimer) void live.pollGateways().finally(poll);
  });
  const live = new ConsoleLive({
    nc,
    subjects,
    alertsKv,
    silencesKv,
    logger,
    now,
    changed: (routine) => hub.changed(routine),
  });
  await live.start();

  // The gateways are asked only while someone watches: their status is request/reply, not a stream.
  const poll = (): void => {
    if (pollTimer || stopped || hub.size === 0) return;
    pollTimer = systemClock.setTimeout(() => {
      pollTimer = undefined;
      void live.pollGateways().finally(poll);
    }, GATEWAY_POLL_MS);
  };

  let assets: Promise<Assets> | null = null;
  const routes = consoleRoutes({
    auth: new ConsoleAuth(deps.config, now),
    actions: {
      js: jetstreamClient(nc),
      subjects,
      alerts: new AlertStore(alertsKv, logger),
      silences: new SilenceStore(silencesKv, logger),
      now,
    },
    hub,
    state,
    assets: () => {
      assets ??= loadAssets(logger).catch((err: Error) => {
        assets = null;
        throw err;
      });
      return assets;
    },
    metrics,
    logger,
    voiceNote: (file) => {
      // Gateways answering status now, then any that placed a recent call (its record names the gateway host).
      const hosts = new Set([...live.gateways.keys(), ...live.calls.map((c) => c.host)]);
      return fetchVoiceNote(nc, subjects, [...hosts], file);
    },
  });
  return {
    routes,
    live,
    stop: () => {
      stopped = true;
      if (pollTimer) systemClock.clearTimeout(pollTimer);
      hub.close();
      live.stop();
    },
  };
}
