import { Counter, Gauge, type Registry } from '../../shared/index.ts';

/** What an operator graphs about the gateway's watchdog. */
export function watchdogMetrics(registry: Registry) {
  const registers = [registry];
  const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
  const count = (name: string, help: string): Counter => new Counter({ name, help, registers });
  return {
    blind: new Gauge({
      name: 'offhook_gateway_watchdog_blind',
      help: '1 while this reason makes offhook blind (nats, collector, canary)',
      labelNames: ['reason'] as const,
      registers,
    }),
    incidents: count('offhook_gateway_watchdog_incidents_total', 'Watchdog incidents raised (each rings)'),
    incidentState: gauge('offhook_gateway_watchdog_incident', '0 none, 1 calling, 2 acknowledged, 3 ended unacked'),
    natsSilent: gauge('offhook_gateway_watchdog_nats_silent_seconds', 'How long NATS has been silent (0 while not)'),
    collectorSilent: gauge('offhook_gateway_watchdog_collector_silent_seconds', 'Longest a partition went unclaimed'),
    collectorsLive: gauge('offhook_gateway_watchdog_collectors_live', 'Collectors heard within collector_silence'),
    canaryAge: gauge('offhook_gateway_watchdog_canary_age_seconds', 'Time since the last canary came through ALERTS'),
    canaries: count('offhook_gateway_watchdog_canaries_total', 'Watchdog canary alerts received (never phoned)'),
    collectorHeartbeats: count('offhook_gateway_watchdog_collector_heartbeats_total', 'Collector heartbeats received'),
    heartbeatsSent: count('offhook_gateway_heartbeats_sent_total', 'Gateway heartbeats published for the collector'),
  };
}
export type WatchdogMetrics = ReturnType<typeof watchdogMetrics>;
