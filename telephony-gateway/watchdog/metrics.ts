import { Counter, Gauge, type Registry } from '../../shared/index.ts';

/** What an operator graphs about the gateway's watchdog. */
export function watchdogMetrics(registry: Registry) {
  const registers = [registry];
  return {
    blind: new Gauge({ name: 'offhook_gateway_watchdog_blind', help: '1 while this reason makes offhook blind (nats, collector, canary)', labelNames: ['reason'] as const, registers }),
    incidents: new Counter({ name: 'offhook_gateway_watchdog_incidents_total', help: 'Watchdog incidents raised (each rings the on-call chain once acknowledged or ended)', registers }),
    incidentState: new Gauge({ name: 'offhook_gateway_watchdog_incident', help: '0 none, 1 calling, 2 acknowledged, 3 escalation ended without acknowledgement', registers }),
    natsSilent: new Gauge({ name: 'offhook_gateway_watchdog_nats_silent_seconds', help: 'How long this gateway has not reached NATS (0 while it does)', registers }),
    collectorSilent: new Gauge({ name: 'offhook_gateway_watchdog_collector_silent_seconds', help: 'Longest time a partition has gone without a live collector claiming it', registers }),
    collectorsLive: new Gauge({ name: 'offhook_gateway_watchdog_collectors_live', help: 'Collector members heard within watchdog.collector_silence', registers }),
    canaryAge: new Gauge({ name: 'offhook_gateway_watchdog_canary_age_seconds', help: 'Time since the last watchdog canary alert came through ALERTS', registers }),
    canaries: new Counter({ name: 'offhook_gateway_watchdog_canaries_total', help: 'Watchdog canary alerts received (never phoned)', registers }),
    collectorHeartbeats: new Counter({ name: 'offhook_gateway_watchdog_collector_heartbeats_total', help: 'Collector heartbeats received', registers }),
    heartbeatsSent: new Counter({ name: 'offhook_gateway_heartbeats_sent_total', help: 'Gateway heartbeats published for the collector', registers }),
  };
}
export type WatchdogMetrics = ReturnType<typeof watchdogMetrics>;
