import { hostname } from 'node:os';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  counter,
  Gauge,
  type Clock,
  type InboundValidator,
  type Logger,
  type PartitionClaim,
  type Registry,
  type Subjects,
} from '../../shared/index.ts';
import type { AlertEngine, EngineOutput } from '../alerts/index.ts';
import { CollectorBeacon } from './beacon.ts';
import { memberId, tokenOrFallback, type CollectorWatchdogConfig } from './config.ts';
import { GatewaySilence } from './gateway-silence.ts';

export { CollectorWatchdogConfig, DEFAULT_COLLECTOR_WATCHDOG } from './config.ts';
export { canaryAlert } from './beacon.ts';
export { GATEWAY_SILENT_RULE, GatewaySilence } from './gateway-silence.ts';

/** Until collector groups split the stream, one collector evaluates the only partition. */
export const SINGLE_PARTITION: PartitionClaim = { count: 1, owned: [0] };

export interface CollectorWatchdog {
  member: string;
  tick(): void;
  stop(): void;
}

export interface CollectorWatchdogDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  subjects: Subjects;
  validator: InboundValidator;
  engine: AlertEngine;
  output: EngineOutput;
  config: CollectorWatchdogConfig;
  clock: Clock;
  logger: Logger;
  registry: Registry;
  repeatMs: number;
  partitions?: () => PartitionClaim;
}

/** The collector's watchdog: heartbeat + canary out, gateway heartbeats in, `gateway_silent` for the notifiers. */
export function startCollectorWatchdog(deps: CollectorWatchdogDeps): CollectorWatchdog {
  const { nc, subjects, validator, config, registry, clock } = deps;
  const member = memberId(config);
  const logger = deps.logger.child({ component: 'watchdog', member });
  const silentGauge = new Gauge({
    name: 'offhook_collector_gateways_silent',
    help: 'Telephony gateways not heard for watchdog.gateway_silence',
    registers: [registry],
  });
  const gatewayBeats = counter(registry, 'offhook_collector_gateway_heartbeats_total', 'Gateway heartbeats received');
  const beacon = new CollectorBeacon({
    nc,
    js: deps.js,
    subjects,
    member,
    host: tokenOrFallback(hostname(), member),
    config,
    clock,
    logger,
    partitions: deps.partitions ?? (() => SINGLE_PARTITION),
    metrics: {
      heartbeats: counter(registry, 'offhook_collector_heartbeats_sent_total', 'Collector heartbeats sent (watchdog)'),
      canaries: counter(registry, 'offhook_collector_canaries_total', 'Canaries sent, by outcome', ['outcome']),
    },
  });
  const silence = new GatewaySilence({
    engine: deps.engine,
    output: deps.output,
    clock,
    logger,
    silenceMs: config.gateway_silence,
    repeatMs: deps.repeatMs,
    expected: config.gateways,
    onChange: (silent) => silentGauge.set(silent),
  });
  const sub = nc.subscribe(subjects.allGatewayHeartbeats, {
    callback: (err, msg) => {
      if (err) return;
      const decoded = validator.accept(msg.subject, msg.data);
      if (decoded?.type !== 'gateway_heartbeat') return;
      gatewayBeats.inc();
      silence.onHeartbeat(decoded.message);
    },
  });
  beacon.start();
  const { heartbeat_interval, canary_interval, gateway_silence } = config;
  logger.info(
    { heartbeatInterval: heartbeat_interval, canaryInterval: canary_interval, gatewaySilence: gateway_silence },
    'collector watchdog started',
  );
  return {
    member,
    tick: () => {
      silence.tick();
      silentGauge.set(silence.silentCount());
    },
    stop: () => {
      beacon.stop();
      sub.unsubscribe();
    },
  };
}
