import {
  Ack,
  Alert,
  FallbackRequest,
  fingerprint,
  GatewayEvent,
  Heartbeat,
  newId,
  ResourceSample,
  SCHEMA_VERSION,
} from '../../../shared/index.ts';
import { resourceSample as sampleWith } from '../../../bench/lib.ts';

/** Real wire messages, validated by the shared schemas so the tests send what the processes send. */
export function resourceSample(host: string, seq: number): ResourceSample {
  const metrics = [{ name: 'node_load1', type: 'gauge' as const, value: 0.5 + seq / 1000 }];
  return ResourceSample.parse({ ...sampleWith(host, seq, metrics), id: newId() });
}

export function heartbeat(host: string, seq: number): Heartbeat {
  return Heartbeat.parse({
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    seq,
    kind: 'heartbeat',
    agentVersion: 'test',
    uptimeSec: 1,
    intervalMs: 10_000,
  });
}

export function alert(host: string): Alert {
  return Alert.parse({
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    fingerprint: fingerprint(host, 'disk_full'),
    status: 'firing',
    severity: 'critical',
    rule: 'disk_full',
    ruleKind: 'threshold',
    labels: { mount: '/' },
    summary: `Disk on ${host} is full.`,
    value: 99,
    startsAt: Date.now(),
    endsAt: 0,
    generation: 1,
  });
}

export function ack(host: string, by: string): Ack {
  return Ack.parse({
    v: SCHEMA_VERSION,
    id: newId(),
    host,
    ts: Date.now(),
    fingerprint: fingerprint(host, 'disk_full'),
    generation: 1,
    by,
    method: 'cli',
  });
}

export function fallback(gatewayHost: string): FallbackRequest {
  return FallbackRequest.parse({
    v: SCHEMA_VERSION,
    id: newId(),
    host: gatewayHost,
    ts: Date.now(),
    reason: 'line_down',
    detail: 'no dial tone',
    alerts: [alert('web1')],
  });
}

export function gatewayEvent(gatewayHost: string): GatewayEvent {
  return GatewayEvent.parse({
    v: SCHEMA_VERSION,
    id: newId(),
    host: gatewayHost,
    ts: Date.now(),
    kind: 'line_down',
    detail: 'no dial tone',
  });
}
